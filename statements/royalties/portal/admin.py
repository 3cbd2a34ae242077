"""Staff side of the payee portal and the self-billing invoices: invite payees (an action on the
payees list), see who uses the portal, issue the invoices of payees who opted in after a run was
finalised (an action on the royalty runs), list invoices and download their PDF."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, ngettext

from project import admin_display
from project.errors import DomainError
from statements.royalties import invoices
from statements.royalties.api import attachment
from statements.royalties.models import Payee, RoyaltyRun, SelfBillingInvoice
from statements.royalties.portal import services
from statements.royalties.portal.models import PortalAccount


@admin.action(description=gettext_lazy("Invite to the payee portal"))
def invite_to_portal(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Payee]) -> None:
    """Email each selected payee (at their email address) a link to set a portal password."""
    sent = 0
    for payee in queryset:
        try:
            services.invite_payee(
                payee=payee,
                email=payee.email,
                invited_by=request.user,
                site_url=request.build_absolute_uri("/"),
            )
            sent += 1
        except DomainError as exc:
            model_admin.message_user(request, f"{payee}: {exc.message}", messages.ERROR)
    if sent:
        model_admin.message_user(
            request,
            ngettext("%(n)s invitation sent.", "%(n)s invitations sent.", sent) % {"n": sent},
            messages.SUCCESS,
        )


@admin.action(description=gettext_lazy("Issue the self-billing invoices"))
def issue_invoices(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[RoyaltyRun]
) -> None:
    """The invoices of payees who opted in to self-billing after these runs were finalised."""
    before = SelfBillingInvoice.objects.count()
    for royalty in queryset.order_by("sequence"):
        invoices.issue_for_run(royalty)
    issued = SelfBillingInvoice.objects.count() - before
    model_admin.message_user(
        request,
        ngettext("%(n)s invoice issued.", "%(n)s invoices issued.", issued) % {"n": issued},
        messages.SUCCESS,
    )


@admin.register(PortalAccount)
class PortalAccountAdmin(admin.ModelAdmin):
    """Who uses the portal (invited from the payees list); delete an account to end its access."""

    list_display = ["payee", "user", "invited_at", "invited_by", "activated_at"]
    list_select_related = ["payee", "user", "invited_by"]
    search_fields = ["payee__name", "user__username"]
    readonly_fields = ["payee", "user", "invited_at", "invited_by", "activated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SelfBillingInvoice)
class SelfBillingInvoiceAdmin(admin.ModelAdmin):
    """Issued invoices never change; each has its PDF (rendered once into the storage)."""

    list_display = ["code", "payee", "royalty_run", "issue_date", "treatment", "total_shown", "pdf"]
    list_filter = ["treatment", "currency", "issue_date"]
    list_select_related = ["payee", "royalty_run__run"]
    search_fields = ["payee__name", "number"]
    exclude = ["parties", "storage_key"]

    @admin.display(description=gettext_lazy("to pay"), ordering="total")
    def total_shown(self, obj: SelfBillingInvoice) -> str:
        return admin_display.money(obj.total, obj.currency)

    @admin.display(description="PDF")
    def pdf(self, obj: SelfBillingInvoice) -> str:
        url = reverse("admin:statements_selfbillinginvoice_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, invoices.document_name(obj))

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in SelfBillingInvoice._meta.fields if field.name not in self.exclude]

    def get_urls(self) -> list:
        download = self.admin_site.admin_view(self.pdf_view)
        return [
            path("<int:invoice_id>/pdf/", download, name="statements_selfbillinginvoice_pdf"),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, invoice_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(SelfBillingInvoice, pk=invoice_id)
        return attachment(invoices.document(invoice), invoices.document_name(invoice))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
