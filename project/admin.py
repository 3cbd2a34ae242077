from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from project.admin_display import readable
from project.models import ApiToken, OutboundEmail
from project.roles import PAYEES
from project.tokens import issue_api_token


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "scopes",
        "expires_at",
        "created_at",
        "last_used_at",
        "revoked",
        "legacy",
    ]
    list_filter = [
        "revoked",
        "legacy",
        "settlement_access",
        "statements_access",
        "exports_access",
        "royalties_access",
    ]
    search_fields = ["user__username", "name", "prefix"]
    fields = [
        "user",
        "name",
        ("settlement_access", "statements_access", "exports_access", "royalties_access"),
        "expires_at",
        "revoked",
        "legacy",
        "prefix",
        "created_at",
        "last_used_at",
    ]
    readonly_fields = ["legacy", "prefix", "created_at", "last_used_at"]

    @admin.display(description=_("scopes"))
    def scopes(self, obj: ApiToken) -> str:
        return ", ".join(obj.scope_labels) or "none"

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":  # a payee's portal user gets no token (issue_api_token refuses it)
            kwargs["queryset"] = get_user_model().objects.exclude(groups__name=PAYEES, is_staff=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = issue_api_token(
            user=obj.user, name=obj.name, scopes=obj.scope_labels, expires_at=obj.expires_at
        )
        obj.pk = token.pk
        # The raw token exists only in this message: it is stored hashed.
        messages.warning(
            request, _("New API token (copy it now, it will not be shown again): %(token)s") % {"token": raw}
        )


# What each email template is, as staff call it (the outbox stores the template's name).
EMAIL_KINDS = {
    "ingestion/closed_day": _("File of a closed day"),
    "ingestion/late": _("Late file"),
    "ingestion/no_file": _("No file received"),
    "ingestion/rejected": _("File rejected"),
    "ingestion/summary": _("Import summary"),
    "platform/test": _("Test email"),
    "sessions_app/alert": _("Session failed"),
    "sessions_app/result": _("Session result"),
    "statements/royalty_statement": _("Royalty statement"),
    "portal/invitation": _("Payee portal invitation"),
}


class EmailKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = OutboundEmail.objects.values_list("kind", flat=True).distinct()
        return [(kind, EMAIL_KINDS.get(kind, kind)) for kind in sorted(set(kinds))]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox is a record of what was sent: read-only, the HTML body shown as a preview."""

    list_display = ["created_at", "kind_shown", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", EmailKindFilter]
    search_fields = ["subject"]
    fields = [
        "kind_shown",
        "subject",
        "to_shown",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "html_preview",
        "text_body",
    ]
    readonly_fields = fields
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_shown(self, obj: OutboundEmail) -> str:
        return EMAIL_KINDS.get(obj.kind, obj.kind)

    @admin.display(description=_("to"))
    def to_shown(self, obj: OutboundEmail) -> str:
        return readable(obj.to)

    @admin.display(description=_("HTML body"))
    def html_preview(self, obj: OutboundEmail) -> str:
        if not obj.html_body:
            return _("no HTML part")
        # srcdoc gets the escaped HTML; the empty sandbox runs no script and loads nothing as this site.
        return format_html(
            '<iframe sandbox="" srcdoc="{}" title="{}" referrerpolicy="no-referrer"'
            ' style="width:100%;min-height:420px;border:1px solid #ccc;background:#fff"></iframe>',
            obj.html_body,
            _("HTML preview"),
        )

    @admin.action(description=_("Retry delivery now"))
    def retry(self, request, queryset):
        from project.mail import deliver_email

        queryset.filter(status=OutboundEmail.Status.FAILED).update(status=OutboundEmail.Status.PENDING)
        sent = sum(deliver_email(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request, ngettext("%(count)d email sent.", "%(count)d emails sent.", sent) % {"count": sent}
        )


class AppFilter(admin.SimpleListFilter):
    title = _("app")
    parameter_name = "app"

    def lookups(self, request, model_admin):
        labels = LogEntry.objects.values_list("content_type__app_label", flat=True).distinct()
        return [(label, label) for label in sorted(set(labels))]

    def queryset(self, request, queryset):
        return queryset.filter(content_type__app_label=self.value()) if self.value() else queryset


class AuditEntryAdmin(LogEntryAdmin):
    """The audit trail, read-only: no add, change or delete, whoever asks."""

    list_display = ["created", "resource_url", "event", "action", "msg_short", "user_url", "via"]
    list_filter = [
        AppFilter,
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("timestamp", admin.DateFieldListFilter),
        "action",
    ]

    @admin.display(description=_("event"))
    def event(self, obj: LogEntry) -> str:
        return (obj.additional_data or {}).get("event", "")

    @admin.display(description=_("via"))
    def via(self, obj: LogEntry) -> str:
        return (obj.additional_data or {}).get("via", "")

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditEntryAdmin)
