"""Admin for sessions: history, so everything is read-only and nothing can be deleted (closing, on the
page or with `close_session`, is how a day ends; a deleted session would leave its day closed for
ingestion while the page offered to start it again)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from project.admin_display import readable
from sessions_app.models import Session, SessionStep


class SessionStepInline(admin.TabularInline):
    model = SessionStep
    fields = ["created_at", "kind", "outcome", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["day", "status", "closed_at", "force_closed", "invoice_file", "shipments", "started_by"]
    list_filter = ["status", "force_closed", ("closed_at", admin.EmptyFieldListFilter)]
    search_fields = ["csv_name", "invoice_file__name", "failure_reason"]
    date_hierarchy = "day"
    list_select_related = ["invoice_file", "started_by"]
    inlines = [SessionStepInline]

    # The invoice lists are shown as lists, not JSON.
    JSON_SHOWN = {"not_found": "not_found_shown", "past": "past_shown"}

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [self.JSON_SHOWN.get(field.name, field.name) for field in Session._meta.fields]

    def get_fields(self, request, obj=None) -> list[str]:
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("shipments"))
    def shipments(self, obj: Session) -> str:
        """Read by the receiver / generated."""
        read = "-" if obj.records_read is None else obj.records_read
        return f"{read} / {'-' if obj.total is None else obj.total}"

    @admin.display(description=_("not found"))
    def not_found_shown(self, obj: Session) -> str:
        return readable(obj.not_found)

    @admin.display(description=_("past"))
    def past_shown(self, obj: Session) -> str:
        return readable(obj.past)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SessionStep)
class SessionStepAdmin(admin.ModelAdmin):
    list_display = ["created_at", "session", "kind", "outcome", "message"]
    list_filter = ["kind", "outcome"]
    search_fields = ["message", "session__csv_name"]
    list_select_related = ["session"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [field.name for field in SessionStep._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
