"""Admin of received files (history: read-only), their lines and the categories."""

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ingestion.models import Category, ImportProgress, InvoiceFile, InvoiceLine
from ingestion.services import delete_invoice_file, reprocess_file
from ingestion.texts import line_reason
from project.admin_display import money


class ReadOnlyAdmin(admin.ModelAdmin):
    """Imported data is history: it is viewed here, never edited (a whole file may be deleted)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InvoiceFile)
class InvoiceFileAdmin(ReadOnlyAdmin):
    # The other counts (ignored, invalid, found, not found, past) are on the detail page.
    list_display = ["name", "business_date", "source", "status", "records", "lines_link", "created_at"]
    list_filter = ["status", "late", "source", "business_date"]
    search_fields = ["name", "sha256"]
    date_hierarchy = "business_date"
    actions = ["reprocess"]
    # The raw JSON of the invalid lines is shown as a table, the reason in the reader's language.
    exclude = ["invalid_lines", "reason", "reason_code", "reason_params"]
    readonly_fields = ["reason_shown", "invalid_lines_table"]

    @admin.display(description=_("reason"))
    def reason_shown(self, obj: InvoiceFile) -> str:
        return obj.reason_text or "-"

    @admin.display(description=_("invalid lines"))
    def invalid_lines_table(self, obj: InvoiceFile) -> str:
        if not obj.invalid_lines:
            return _("none")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            ((item["line"], line_reason(item)) for item in obj.invalid_lines),
        )
        return format_html(
            '<table class="invalid-lines"><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
            _("line"),
            _("reason"),
            rows,
        )

    def get_deleted_objects(self, objs, request):
        """Summarise instead of listing every line (a big file has a million), keeping Django's
        refusal to delete a file that a PROTECTing relation (a shipping session) refers to."""
        files = list(objs)
        summary = [
            ngettext(
                "%(file)s with its %(count)s line", "%(file)s with its %(count)s lines", f.imported_count
            )
            % {"file": f.name, "count": f.imported_count}
            for f in files
        ]
        protected = [
            str(related)
            for relation in InvoiceFile._meta.related_objects
            if relation.on_delete is models.PROTECT
            for related in relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": files}
            )
        ]
        return summary, {InvoiceFile._meta.verbose_name_plural: len(files)}, set(), protected

    def delete_model(self, request, obj: InvoiceFile) -> None:
        delete_invoice_file(invoice_file=obj)

    def delete_queryset(self, request, queryset) -> None:
        for invoice_file in queryset:
            delete_invoice_file(invoice_file=invoice_file)

    @admin.display(description=_("lines"))
    def lines_link(self, obj: InvoiceFile) -> str:
        url = reverse("admin:ingestion_invoiceline_changelist") + f"?file__id__exact={obj.pk}"
        count = obj.imported_count
        return format_html('<a href="{}">{}</a>', url, ngettext("%s line", "%s lines", count) % count)

    @admin.action(description=_("Re-run the known-invoice lookup and the summary email"))
    def reprocess(self, request, queryset) -> None:
        for invoice_file in queryset:
            try:
                reprocess_file(invoice_file=invoice_file)
            except ValueError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(
                    request, _("%(file)s: lookup re-run, summary email queued") % {"file": invoice_file.name}
                )


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ReadOnlyAdmin):
    list_display = [
        "invoice_number",
        "file",
        "line_number",
        "quantity",
        "value_shown",
        "description",
        "lookup_status",
    ]
    list_filter = ["lookup_status", "file", "categories"]
    # Exact match: it uses the invoice_number index on tables with millions of lines.
    search_fields = ["=invoice_number"]
    list_select_related = ["file"]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("value"), ordering="value")
    def value_shown(self, obj: InvoiceLine) -> str:
        return money(obj.value, obj.file.currency)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "line_count"]
    search_fields = ["name", "key"]
    readonly_fields = ["key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=Count("lines"))

    @admin.display(description=_("lines"), ordering="line_count")
    def line_count(self, obj: Category) -> int:
        return obj.line_count

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ImportProgress)
class ImportProgressAdmin(ReadOnlyAdmin):
    """Imports running now (the file shows up in "Invoice files" when its import commits); a row
    whose `updated_at` stopped moving was left by a crashed import and may be deleted."""

    list_display = ["name", "progress", "processed", "total", "started_at", "updated_at"]
    search_fields = ["name"]

    @admin.display(description=_("progress"))
    def progress(self, obj: ImportProgress) -> str:
        percent = 100 * obj.processed // obj.total if obj.total else 100
        return f"{obj.processed}/{obj.total} ({percent}%)"
