"""Issue and check API tokens. Tokens are random, so a plain SHA-256 digest is safe to store."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from project.models import ApiToken

TOKEN_PREFIX = "bo_"  # noqa: S105 (a label, not a secret)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_token(*, user: AbstractBaseUser, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; the raw token is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=_digest(raw))
    return token, raw


def user_for_token(raw: str, *, scope: str | None = None, write: bool = False) -> AbstractBaseUser | None:
    """The active user owning `raw`, or None for an unknown or revoked token. `scope` (the API
    asked) and `write` (an unsafe method) are for the token scopes, not checked yet."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Throttled so that busy API clients do not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
