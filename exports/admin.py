"""Admin of the exports app: documents, export files and mutations are history, so read-only."""

from decimal import Decimal

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from exports.models import (
    Document,
    ExportedDocument,
    ExportFile,
    Mutation,
    PendingSync,
    SyncRun,
    Webhook,
    state_label,
)
from exports.selectors import change_descriptions
from project.admin_display import money, readable


def in_words(mutation: Mutation) -> str:
    """A change as the exports page says it ("line 1 amount 249.90 → 349.90 EUR")."""
    mutation.document.open_mutations = [mutation]
    return change_descriptions(mutation.document)[0]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MutationInline(admin.TabularInline):
    model = Mutation
    fk_name = "document"
    extra = 0
    can_delete = False
    fields = readonly_fields = ["change", "detected_at", "cleared_at", "cleared_by"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("change"))
    def change(self, obj: Mutation) -> str:
        return in_words(obj)


class ExportedDocumentInline(admin.TabularInline):
    model = ExportedDocument
    extra = 0
    can_delete = False
    readonly_fields = ["document"]
    exclude = ["rows"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StateFilter(admin.SimpleListFilter):
    """Moneybird's states (free text) by their labels."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        states = Document.objects.order_by("status").values_list("status", flat=True).distinct()
        return [(state, state_label(state)) for state in states]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["moneybird_id", "type", "state", "invoice_date", "contact", "total", "removed_at"]
    list_filter = ["type", StateFilter, "currency", ("removed_at", admin.EmptyFieldListFilter)]
    search_fields = ["moneybird_id", "reference", "contact"]
    date_hierarchy = "invoice_date"
    inlines = [MutationInline]
    # The detail page: the state by its label, the totals as exact money, the lines as a table.
    fields = readonly_fields = [
        "moneybird_id",
        "type",
        "state",
        "version",
        "create_date",
        "invoice_date",
        "contact",
        "reference",
        "total_excl",
        "total_exact",
        "lines_shown",
        "synced_at",
        "removed_at",
        "last_export",
    ]

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj: Document) -> str:
        return state_label(obj.status)

    @admin.display(description=_("total incl. tax"), ordering="total_incl_tax")
    def total(self, obj: Document) -> str:
        return money(obj.total_incl_tax, obj.currency)

    @admin.display(description=_("total excl. tax"))
    def total_excl(self, obj: Document) -> str:
        return money(obj.total_excl_tax, obj.currency, exact=True)

    @admin.display(description=_("total incl. tax"))
    def total_exact(self, obj: Document) -> str:
        return money(obj.total_incl_tax, obj.currency, exact=True)

    @admin.display(description=_("lines"))
    def lines_shown(self, obj: Document):
        """The lines of Moneybird's record (the whole record is Moneybird's JSON, in its words)."""
        return readable(
            [
                {
                    _("line"): number,
                    _("description"): line.get("description") or "",
                    _("quantity"): line.get("amount") or "",
                    _("price"): money(Decimal(str(line["price"])), obj.currency, exact=True)
                    if line.get("price") is not None
                    else "",
                    _("ledger account"): line.get("ledger_account_id") or "",
                    _("tax rate"): line.get("tax_rate_id") or "",
                }
                for number, line in enumerate(obj.raw.get("details") or [], start=1)
            ]
        )


@admin.register(ExportFile)
class ExportFileAdmin(ReadOnlyAdmin):
    list_display = ["name", "created", "created_by", "no_log", "document_count", "row_count", "deleted"]
    list_filter = ["no_log", "deleted", "created"]
    search_fields = ["name", "links__document__moneybird_id"]
    inlines = [ExportedDocumentInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting must go through the page or the API so storage and the summary follow.
        return False


@admin.register(Mutation)
class MutationAdmin(ReadOnlyAdmin):
    list_display = ["document", "change", "detected_at", "cleared_at", "cleared_by"]
    list_filter = ["field_name", ("cleared_at", admin.EmptyFieldListFilter)]
    search_fields = ["document__moneybird_id"]
    list_select_related = ["document", "cleared_by"]
    fields = readonly_fields = ["document", "change", "detected_at", "cleared_at", "cleared_by"]

    @admin.display(description=_("change"))
    def change(self, obj: Mutation) -> str:
        return in_words(obj)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "status", "partial", "progress", "outcome", "finished_at"]
    list_filter = ["status", "partial"]

    @admin.display(description=_("progress"))
    def progress(self, run: SyncRun) -> str:
        """Fetched n of total (moves while the sync runs; reload to follow it)."""
        return _("fetched %(processed)s of %(total)s") % {"processed": run.processed, "total": run.total}

    @admin.display(description=_("outcome"))
    def outcome(self, run: SyncRun) -> str:
        return _("%(created)s new, %(updated)s updated, %(removed)s deleted, %(mutations)s mutations") % {
            "created": run.created,
            "updated": run.updated,
            "removed": run.removed,
            "mutations": run.mutations,
        }


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ["moneybird_id", "url", "created_at"]
    exclude = ["token"]
    # Django 6 makes https the default scheme of a form URLField; say so now (no deprecation warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(PendingSync)
class PendingSyncAdmin(ReadOnlyAdmin):
    list_display = ["moneybird_id", "received_at"]
