"""Admin of payment batches: staff review a batch's lines and totals, download its files (SEPA,
Wise, PayPal, generic CSV), mark it paid or cancel it; a batch is created from finalised runs
(*Royalty runs → Create a payment batch*). Every write goes through `payments`."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from project import admin_display
from project.errors import DomainError, InvalidInput
from statements.royalties import payments
from statements.royalties.models import PaymentBatch, PaymentLine


class PaymentLineInline(admin.TabularInline):
    model = PaymentLine
    extra = 0
    can_delete = False
    fields = [
        "payee",
        "method",
        "account",
        "payable",
        "withheld_shown",
        "vat_shown",
        "amount_shown",
        "reference",
    ]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("payable"))
    def payable(self, line: PaymentLine) -> str:
        return admin_display.money(line.gross, line.currency)

    @admin.display(description=gettext_lazy("withheld"))
    def withheld_shown(self, line: PaymentLine) -> str:
        return admin_display.money(line.withheld, line.currency)

    @admin.display(description=gettext_lazy("VAT"))
    def vat_shown(self, line: PaymentLine) -> str:
        return admin_display.money(line.vat, line.currency)

    @admin.display(description=gettext_lazy("amount"))
    def amount_shown(self, line: PaymentLine) -> str:
        return admin_display.money(line.amount, line.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaymentBatch)
class PaymentBatchAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "created_at", "created_by", "totals", "paid_on"]
    list_filter = ["status"]
    fields = [
        "status",
        "runs_shown",
        "totals",
        "created_at",
        "created_by",
        "paid_on",
        "decided_at",
        "decided_by",
    ]
    readonly_fields = fields
    inlines = [PaymentLineInline]

    @admin.display(description=gettext_lazy("runs"))
    def runs_shown(self, batch: PaymentBatch) -> str:
        return ", ".join(royalty.run.name for royalty in batch.runs.select_related("run"))

    @admin.display(description=gettext_lazy("total"))
    def totals(self, batch: PaymentBatch) -> str:
        return "; ".join(
            admin_display.money(total["amount"], total["currency"])
            for total in payments.batch_totals(list(batch.lines.all()))
        )

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        batch = self._batch(request, int(object_id))
        files = [
            (label, reverse("admin:statements_paymentbatch_file", args=[batch.pk, kind]), currency)
            for label, kind, currency in payments.file_links(batch)
        ]
        context = {
            **(extra_context or {}),
            "batch_files": files,
            "batch_open": batch.status == PaymentBatch.Status.OPEN,
            "today": timezone.localdate().isoformat(),
        }
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:batch_id>/file/<str:kind>/", view(self.file_view), name="statements_paymentbatch_file"
            ),
            path(
                "<int:batch_id>/mark-paid/",
                view(require_POST(self.mark_paid_view)),
                name="statements_paymentbatch_mark_paid",
            ),
            path(
                "<int:batch_id>/cancel/",
                view(require_POST(self.cancel_view)),
                name="statements_paymentbatch_cancel",
            ),
            *super().get_urls(),
        ]

    def _batch(self, request: HttpRequest, batch_id: int) -> PaymentBatch:
        batch = get_object_or_404(PaymentBatch, pk=batch_id)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        return batch

    def file_view(self, request: HttpRequest, batch_id: int, kind: str) -> HttpResponse:
        batch = self._batch(request, batch_id)
        try:
            name, content = payments.batch_file(batch, kind, request.GET.get("currency", ""))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:statements_paymentbatch_change", args=[batch.pk]))
        response = HttpResponse(content, content_type=payments.FILE_TYPES[name.rsplit(".", 1)[1]])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def _transition(self, request: HttpRequest, batch_id: int, act, done: str) -> HttpResponse:
        batch = self._batch(request, batch_id)
        if not self.has_change_permission(request, None):
            raise PermissionDenied
        try:
            act(batch)
            self.message_user(request, done, messages.SUCCESS)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:statements_paymentbatch_change", args=[batch.pk]))

    def mark_paid_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        paid_on = request.POST.get("paid_on") or None

        def act(batch: PaymentBatch) -> None:
            day = parse_date(paid_on) if paid_on else None
            if paid_on and day is None:
                raise InvalidInput(_("The date paid is not a date."))
            payments.mark_batch_paid(batch=batch, by_user=request.user, paid_on=day)

        return self._transition(request, batch_id, act, _("Batch marked paid; remittance emails queued."))

    def cancel_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        return self._transition(
            request,
            batch_id,
            lambda batch: payments.cancel_batch(batch=batch, by_user=request.user),
            _("Batch cancelled."),
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.action(description=gettext_lazy("Create a payment batch from the selected runs"))
def create_payment_batch(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset
) -> HttpResponse | None:
    try:
        batch = payments.create_batch(runs=list(queryset), by_user=request.user)
    except DomainError as exc:
        model_admin.message_user(request, exc.message, messages.ERROR)
        return None
    return HttpResponseRedirect(reverse("admin:statements_paymentbatch_change", args=[batch.pk]))
