from decimal import Decimal

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from project import storage
from project.admin_display import money, number, readable
from project.errors import Conflict
from statements import pipeline
from statements.models import (
    ExchangeRate,
    ImportProfile,
    RateChange,
    RateException,
    SalesFile,
    SalesFileEvent,
    SalesFileSnapshot,
    StatementRun,
    WebhookEvent,
)
from statements.royalties.models import PayeeRate
from statements.royalties.selectors import is_finalized


class ReadOnlyMixin:
    """History and pipeline output: visible, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ExchangeRateInline(admin.TabularInline):
    model = ExchangeRate
    extra = 0


class RateExceptionInline(admin.TabularInline):
    model = RateException
    extra = 0
    raw_id_fields = ["sales_file"]


class PayeeRateInline(admin.TabularInline):
    model = PayeeRate
    extra = 0

    def _editable(self, obj) -> bool:
        # A finalised run's rates are frozen (the database refuses the change too).
        return obj is None or not is_finalized(obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class RateChangeDisplay:
    """A rate change's items and the values they replaced as tables, not JSON."""

    @admin.display(description=_("items"))
    def items_shown(self, obj: RateChange):
        return readable(obj.items)

    @admin.display(description=_("previous"))
    def previous_shown(self, obj: RateChange):
        return readable(obj.previous)


class RateChangeInline(RateChangeDisplay, ReadOnlyMixin, admin.TabularInline):
    model = RateChange
    extra = 0
    fields = ["changed_at", "kind", "changed_by", "items_shown", "previous_shown"]
    readonly_fields = fields


@admin.register(StatementRun)
class StatementRunAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "currency", "created_by", "created_at", "report_generated_at"]
    list_filter = ["currency", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["sales_files"]
    readonly_fields = ["created_by", "created_at", "report_generated_at"]
    inlines = [ExchangeRateInline, RateExceptionInline, PayeeRateInline, RateChangeInline]


class SalesFileEventInline(ReadOnlyMixin, admin.TabularInline):
    model = SalesFileEvent
    extra = 0
    fields = ["at", "from_status", "to_status", "source", "reason"]
    readonly_fields = fields


class SnapshotDisplay:
    @admin.display(description=_("revenue"), ordering="revenue")
    def revenue_shown(self, obj: SalesFileSnapshot) -> str:
        return money(obj.revenue, obj.currency, exact=True)


class SalesFileSnapshotInline(SnapshotDisplay, ReadOnlyMixin, admin.TabularInline):
    model = SalesFileSnapshot
    extra = 0
    fields = ["dsp", "period", "lines", "units", "revenue_shown"]
    readonly_fields = fields


# The figures of a sales file's totals, in the reader's words.
TOTAL_NAMES = {"lines": _("lines"), "units": _("units"), "revenue": _("revenue")}


@admin.register(SalesFile)
class SalesFileAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "status",
        "format",
        "lines_valid",
        "lines_rejected",
        "status_changed_at",
    ]
    list_filter = ["status", "format"]
    search_fields = ["name", "failure_reason"]
    # The JSON fields are shown as tables instead (`*_shown`); the failure in the reader's language.
    exclude = ["warnings", "declared", "totals", "failure_reason", "failure_code", "failure_params"]
    readonly_fields = [
        "status",
        "failure_shown",
        "profile",
        "format",
        "detail",
        "warnings_shown",
        "declared_shown",
        "totals_shown",
        "progress",
        "lease_until",
        "size",
        "lines_read",
        "lines_valid",
        "lines_rejected",
        "progress_processed",
        "progress_total",
        "created_by",
        "created_at",
        "status_changed_at",
    ]
    inlines = [SalesFileSnapshotInline, SalesFileEventInline]
    actions = ["reprocess"]

    @admin.display(description=_("failure reason"))
    def failure_shown(self, obj: SalesFile) -> str:
        return obj.failure_text

    @admin.display(description=_("warnings"))
    def warnings_shown(self, obj: SalesFile):
        return readable(obj.warnings)

    @admin.display(description=_("declared"))
    def declared_shown(self, obj: SalesFile):
        return readable(obj.declared)

    @admin.display(description=_("totals"))
    def totals_shown(self, obj: SalesFile):
        """Per currency: lines, units and the revenue as money."""
        return readable(
            {
                currency: {
                    TOTAL_NAMES.get(name, name): money(Decimal(value), currency, exact=True)
                    if name == "revenue"
                    else value
                    for name, value in figures.items()
                }
                for currency, figures in obj.totals.items()
            }
        )

    @admin.display(description=_("progress"))
    def progress(self, obj: SalesFile) -> str:
        return f"{obj.progress_processed}/{obj.progress_total if obj.progress_total is not None else '?'}"

    @admin.action(description=_("Process the selected files again"))
    def reprocess(self, request, queryset):
        for sales_file in queryset:
            try:
                pipeline.start(sales_file, source="admin")
            except (Conflict, storage.Unavailable) as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(request, _("Sales file %(id)s queued.") % {"id": sales_file.pk})


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["run", "currency", "period", "rate_shown"]
    list_filter = ["currency", "period"]
    search_fields = ["run__name", "currency"]

    @admin.display(description=_("rate"), ordering="rate")
    def rate_shown(self, obj: ExchangeRate) -> str:
        return number(obj.rate)


@admin.register(RateException)
class RateExceptionAdmin(admin.ModelAdmin):
    list_display = ["run", "currency", "dsp", "sales_file", "period", "rate_shown"]
    list_filter = ["currency"]
    search_fields = ["run__name", "dsp"]
    raw_id_fields = ["sales_file"]

    @admin.display(description=_("rate"), ordering="rate")
    def rate_shown(self, obj: RateException) -> str:
        return number(obj.rate)


@admin.register(SalesFileSnapshot)
class SalesFileSnapshotAdmin(SnapshotDisplay, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["sales_file", "dsp", "period", "lines", "units", "revenue_shown"]
    list_filter = ["currency", "period", "dsp"]
    search_fields = ["sales_file__name", "dsp"]


@admin.register(RateChange)
class RateChangeAdmin(RateChangeDisplay, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["run", "kind", "changed_by", "changed_at"]
    list_filter = ["kind"]
    search_fields = ["run__name"]
    fields = ["run", "kind", "changed_by", "changed_at", "items_shown", "previous_shown"]
    readonly_fields = ["items_shown", "previous_shown"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["event_id", "event", "sales_file", "received_at"]
    list_filter = ["event"]
    search_fields = ["event_id"]


@admin.register(ImportProfile)
class ImportProfileAdmin(admin.ModelAdmin):
    """Layouts of CSV/TSV reports; a failed file re-processes with a profile added here."""

    list_display = ["slug", "name", "active", "builtin", "priority", "delimiter_shown", "updated_at"]
    list_filter = ["active", "builtin"]
    search_fields = ["slug", "name", "documentation"]
    readonly_fields = ["builtin", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "active", "builtin", "priority", "documentation"]}),
        (_("Reading the file"), {"fields": ["delimiter", "decimal_separator", "date_order", "preamble"]}),
        (_("Columns"), {"fields": ["columns", "required", "defaults"]}),
        (_("Sale types"), {"fields": ["sale_types", "void_values", "skip_values", "skip_markers"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("delimiter"))
    def delimiter_shown(self, obj: ImportProfile) -> str:
        return obj.get_delimiter_display()


# Royalty accounting: payees, contracts, ledger (statements/royalties/admin.py).
from statements.royalties import admin as royalties_admin  # noqa: E402, F401
