"""Platform models shared by every app: hashed API tokens and the outgoing email outbox."""

from django.conf import settings
from django.db import models


class Access(models.TextChoices):
    """What a token may do in one API; write implies read."""

    NONE = "", "no access"
    READ = "read", "read"
    WRITE = "write", "read and write"


class ApiToken(models.Model):
    """A bearer token for the JSON APIs; only its SHA-256 digest is stored.

    Each API (settlement, statements, exports) is a scope the token holds with no access, read or
    write access, so a token issued for one client cannot touch another API.
    """

    SCOPES = ("settlement", "statements", "exports")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters of the token, to recognise it.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    settlement_access = models.CharField(
        max_length=5, choices=Access.choices, default=Access.NONE, blank=True
    )
    statements_access = models.CharField(
        max_length=5, choices=Access.choices, default=Access.NONE, blank=True
    )
    exports_access = models.CharField(max_length=5, choices=Access.choices, default=Access.NONE, blank=True)
    legacy = models.BooleanField(
        default=False,
        editable=False,
        help_text="Issued before scopes existed and migrated to full access; replace it with a scoped token.",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="apitoken_access_values",
                condition=models.Q(settlement_access__in=Access.values)
                & models.Q(statements_access__in=Access.values)
                & models.Q(exports_access__in=Access.values),
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
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    kind = models.CharField(max_length=60, help_text="Template name, e.g. ingestion/summary.")
    subject = models.CharField(max_length=300)
    to = models.JSONField(default=list)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"
