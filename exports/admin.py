"""Admin of the exports app: documents, export files and mutations are history, so read-only."""

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
from project.admin_display import money


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
    readonly_fields = [
        "field_name",
        "detail",
        "old_value",
        "new_value",
        "detected_at",
        "cleared_at",
        "cleared_by",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


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

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj: Document) -> str:
        return state_label(obj.status)

    @admin.display(description=_("total incl. tax"), ordering="total_incl_tax")
    def total(self, obj: Document) -> str:
        return money(obj.total_incl_tax, obj.currency)


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

    @admin.display(description=_("change"))
    def change(self, obj: Mutation) -> str:
        """In words, as on the exports page ("line 1 amount 249.90 → 349.90 EUR")."""
        obj.document.open_mutations = [obj]
        return change_descriptions(obj.document)[0]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "status", "partial", "progress", "outcome", "finished_at"]
    list_filter = ["status", "partial"]

    @admin.display(description=_("progress"))
    def progress(self, run: SyncRun) -> str:
        """Fetched n of total (moves while the sync runs; reload to follow it)."""
        return f"fetched {run.processed} of {run.total}"

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
