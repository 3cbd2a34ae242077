"""Admin for sessions: history, so everything is read-only and nothing can be deleted (closing, on the
page or with `close_session`, is how a day ends; a deleted session would leave its day closed for
ingestion while the page offered to start it again). A superuser may reopen a closed session, with
a reason that goes to the audit trail."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from project.admin_display import readable
from sessions_app import services
from sessions_app.models import Session, SessionStep


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the session reopened?"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        help_text=_("Kept in the audit trail and the session's log."),
    )


@admin.display(description=_("message"))
def step_message(step: SessionStep) -> str:
    """In the reader's language (the stored code), not the stored English sentence."""
    return step.text


class SessionStepInline(admin.TabularInline):
    model = SessionStep
    fields = ["created_at", "kind", "outcome", step_message]
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
    actions = ["reopen"]

    # The invoice lists are shown as lists, not JSON; the failure in the reader's language.
    JSON_SHOWN = {"not_found": "not_found_shown", "past": "past_shown", "failure_reason": "failure_shown"}
    HIDDEN = {"failure_code", "failure_params"}

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [
            self.JSON_SHOWN.get(field.name, field.name)
            for field in Session._meta.fields
            if field.name not in self.HIDDEN
        ]

    def get_fields(self, request, obj=None) -> list[str]:
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("shipments"))
    def shipments(self, obj: Session) -> str:
        """Read by the receiver / generated."""
        read = "-" if obj.records_read is None else obj.records_read
        return f"{read} / {'-' if obj.total is None else obj.total}"

    @admin.display(description=_("failure reason"))
    def failure_shown(self, obj: Session) -> str:
        return obj.failure_text

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

    def has_reopen_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(description=_("Reopen the selected closed sessions"), permissions=["reopen"])
    def reopen(self, request, queryset):
        """Asks for the reason first (an intermediate page), then reopens each session."""
        form = ReopenForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Reopen sessions"),
                "opts": self.model._meta,
                "sessions": queryset,
                "form": form,
            }
            return TemplateResponse(request, "admin/sessions_app/session/reopen.html", context)
        for session in queryset:
            try:
                services.reopen_session(
                    day=session.day, user=request.user, reason=form.cleaned_data["reason"]
                )
            except services.SessionError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(
                    request, _("Session for %(day)s reopened.") % {"day": session.day.isoformat()}
                )
        return None


@admin.register(SessionStep)
class SessionStepAdmin(admin.ModelAdmin):
    list_display = ["created_at", "session", "kind", "outcome", step_message]
    list_filter = ["kind", "outcome"]
    search_fields = ["message", "session__csv_name"]
    list_select_related = ["session"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        stored = {"message": step_message, "message_code": None, "message_params": None}
        fields = [stored.get(field.name, field.name) for field in SessionStep._meta.fields]
        return [field for field in fields if field is not None]

    def get_fields(self, request, obj=None) -> list:
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
