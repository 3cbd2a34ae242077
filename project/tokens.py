"""Issue and check API tokens. Tokens are random, so a plain SHA-256 digest is safe to store.

A token carries scopes (`settlement`, `statements`, `exports`, each read or write; write implies
read), an optional expiry, revocation and `last_used_at`. The APIs ask `user_for_token` with the
scope of the API and whether the request writes.
"""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from project import audit
from project.errors import Forbidden, InvalidInput
from project.models import Access, ApiToken

TOKEN_PREFIX = "bo_"  # noqa: S105 (a label, not a secret)
SCOPES = ApiToken.SCOPES
ALL_SCOPES = tuple(f"{scope}:write" for scope in SCOPES)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_scopes(labels: Iterable[str]) -> dict[str, str]:
    """`["settlement:write", "exports:read"]` → the model's `<scope>_access` field values."""
    fields = {f"{scope}_access": Access.NONE for scope in SCOPES}
    problems = []
    for label in labels:
        scope, _, access = label.strip().partition(":")
        if scope not in SCOPES or access not in (Access.READ, Access.WRITE):
            problems.append(f"{label!r} is not a scope (use <{'|'.join(SCOPES)}>:<read|write>)")
            continue
        field = f"{scope}_access"
        if fields[field] != Access.WRITE:  # write wins when both are given
            fields[field] = access
    if problems:
        raise InvalidInput("Unknown token scope", problems=problems)
    return fields


def issue_api_token(
    *, user: AbstractBaseUser, scopes: Iterable[str], name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user` with `scopes` (e.g. `["settlement:write"]`); the raw token is
    returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:10],
        digest=_digest(raw),
        expires_at=expires_at,
        **parse_scopes(scopes),
    )
    return token, raw


def user_for_token(raw: str, *, scope: str | None = None, write: bool = False) -> AbstractBaseUser | None:
    """The active user owning `raw`; None for an unknown, revoked or expired token.

    With `scope`, the token must grant it (write access when `write`), else `Forbidden`.
    """
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw), revoked=False, user__is_active=True)
        .first()
    )
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    # Throttled so that busy API clients do not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    if scope is not None and not token.allows(scope, write=write):
        needed = f"{scope}:{'write' if write else 'read'}"
        raise Forbidden(f"This API token does not grant {needed}", code="token_scope")
    audit.set_actor(token.user, via=f"token {token.prefix}")
    return token.user
