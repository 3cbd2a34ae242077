"""Read-only admin of settlement structures, their aggregates, history and settlements.

Everything here is written by the API or its commands; the admin only looks.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from settlement.models import Aggregate, AggregateKey, HistoryEntry, Settlement, Structure


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _link(model: str, structure: Structure, label: str) -> str:
    url = reverse(f"admin:settlement_{model}_changelist") + f"?structure__id__exact={structure.pk}"
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(Structure)
class StructureAdmin(ReadOnlyAdmin):
    list_display = [
        "settleid",
        "aggregation_type",
        "settlement_type",
        "primary_key",
        "metrics",
        "last_settlement_at",
        "links",
    ]
    list_filter = ["aggregation_type", "settlement_type"]
    search_fields = ["settleid", "primary_key", "created_by"]
    date_hierarchy = "created_at"

    @admin.display(description=_("aggregates"))
    def metrics(self, obj: Structure) -> str:
        return ", ".join(obj.aggregation_metrics)

    @admin.display(description=_("details"))
    def links(self, obj: Structure) -> str:
        return format_html(
            "{} · {} · {}",
            _link("aggregate", obj, "aggregates"),
            _link("historyentry", obj, "history"),
            _link("settlement", obj, "settlements"),
        )


@admin.register(Aggregate)
class AggregateAdmin(ReadOnlyAdmin):
    list_display = ["structure", "key", "field", "count", "total"]
    list_filter = ["structure", "field"]
    search_fields = ["key"]
    list_select_related = ["structure"]
    show_full_result_count = False


@admin.register(AggregateKey)
class AggregateKeyAdmin(ReadOnlyAdmin):
    list_display = ["structure", "key", "records"]
    list_filter = ["structure"]
    search_fields = ["key"]
    list_select_related = ["structure"]
    show_full_result_count = False


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    list_display = ["structure", "seq", "operation", "user", "at", "records", "duplicates"]
    list_filter = ["operation", "structure"]
    search_fields = ["user", "structure__settleid"]
    date_hierarchy = "at"
    list_select_related = ["structure"]
    show_full_result_count = False


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ["structure", "seq", "settled_at", "settled_by", "settlement_type", "keys"]
    list_filter = ["settlement_type", "structure"]
    search_fields = ["settled_by", "structure__settleid"]
    date_hierarchy = "settled_at"
    list_select_related = ["structure"]
