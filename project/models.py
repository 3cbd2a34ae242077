"""Platform models shared by every app: hashed API tokens, the outgoing email outbox and the
replies stored for idempotent API retries."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Access(models.TextChoices):
    """What a token may do in one API; write implies read."""

    NONE = "", _("no access")
    READ = "read", _("read")
    WRITE = "write", _("read and write")


class ApiToken(models.Model):
    """A bearer token for the JSON APIs; only its SHA-256 digest is stored.

    Each API (settlement, statements, exports, royalties) is a scope the token holds with no access, read or
    write access, so a token issued for one client cannot touch another API.
    """

    SCOPES = ("settlement", "statements", "exports", "royalties")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(max_length=100, blank=True, verbose_name=_("name"))
    prefix = models.CharField(
        max_length=12,
        help_text=_("First characters of the token, to recognise it."),
        verbose_name=_("prefix"),
    )
    digest = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("digest"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked = models.BooleanField(default=False, verbose_name=_("revoked"))
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty: never expires."), verbose_name=_("expires at")
    )
    settlement_access = models.CharField(
        max_length=5,
        choices=Access.choices,
        default=Access.NONE,
        blank=True,
        verbose_name=_("settlement access"),
    )
    statements_access = models.CharField(
        max_length=5,
        choices=Access.choices,
        default=Access.NONE,
        blank=True,
        verbose_name=_("statements access"),
    )
    exports_access = models.CharField(
        max_length=5,
        choices=Access.choices,
        default=Access.NONE,
        blank=True,
        verbose_name=_("exports access"),
    )
    royalties_access = models.CharField(
        max_length=5,
        choices=Access.choices,
        default=Access.NONE,
        blank=True,
        verbose_name=_("royalties access"),
    )
    legacy = models.BooleanField(
        default=False,
        editable=False,
        help_text=_(
            "Issued before scopes existed and migrated to full access; replace it with a scoped token."
        ),
        verbose_name=_("legacy"),
    )

    class Meta:
        verbose_name = _("api token")
        verbose_name_plural = _("api tokens")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="apitoken_access_values",
                condition=models.Q(settlement_access__in=Access.values)
                & models.Q(statements_access__in=Access.values)
                & models.Q(exports_access__in=Access.values)
                & models.Q(royalties_access__in=Access.values),
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def access(self, scope: str) -> str:
        return getattr(self, f"{scope}_access")

    def allows(self, scope: str, *, write: bool) -> bool:
        granted = self.access(scope)
        return granted == Access.WRITE or (granted == Access.READ and not write)

    @property
    def scope_labels(self) -> list[str]:
        """`settlement:write`-style labels, as `issue_api_token --scope` takes them."""
        return [f"{scope}:{self.access(scope)}" for scope in self.SCOPES if self.access(scope)]


class OutboundEmail(models.Model):
    """An email written in the same transaction as the work it reports, delivered afterwards.

    Keeping mails in the database means an SMTP outage delays them instead of losing them.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(
        max_length=60, help_text=_("Template name, e.g. ingestion/summary."), verbose_name=_("kind")
    )
    subject = models.CharField(max_length=300, verbose_name=_("subject"))
    to = models.JSONField(default=list, verbose_name=_("to"))
    text_body = models.TextField(verbose_name=_("text body"))
    html_body = models.TextField(blank=True, verbose_name=_("html body"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.subject  # the kind is a code; the admin shows it by its label beside


class OutboundAttachment(models.Model):
    """A file sent with an outbound email (a payee's statement PDF), kept with it until delivered."""

    email = models.ForeignKey(
        OutboundEmail, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("email")
    )
    filename = models.CharField(max_length=200, verbose_name=_("file name"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    content = models.BinaryField(verbose_name=_("content"))

    class Meta:
        verbose_name = _("email attachment")
        verbose_name_plural = _("email attachments")

    def __str__(self) -> str:
        return self.filename


class IdempotencyKey(models.Model):
    """The stored reply of a request sent with an Idempotency-Key, replayed to its retries
    (project.idempotency; the table keeps the name it had when only the Settle API had keys)."""

    username = models.CharField(max_length=150, verbose_name=_("username"))
    key = models.CharField(max_length=255, verbose_name=_("key"))
    fingerprint = models.CharField(
        max_length=64,
        help_text=_("SHA-256 of method, path, query and body."),
        verbose_name=_("fingerprint"),
    )
    status = models.PositiveSmallIntegerField(
        null=True, help_text=_("Empty while the request is being applied."), verbose_name=_("status")
    )
    body = models.TextField(blank=True, verbose_name=_("body"))
    headers = models.JSONField(default=dict, blank=True, verbose_name=_("headers"))
    created_at = models.DateTimeField(db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        db_table = "settlement_idempotency_key"
        constraints = [
            models.UniqueConstraint(fields=["username", "key"], name="settlement_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.username}:{self.key}"
