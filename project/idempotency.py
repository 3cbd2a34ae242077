"""Idempotent retries of API writes, for any API: a request sent with an `Idempotency-Key` header is
applied once per (user, key) and its reply stored; a retry with the same key and the same request
(method, path, query, body) replays that reply with `Idempotent-Replayed: true` without applying
anything, the same key with another request is refused. Replies are kept IDEMPOTENCY_HOURS.

The key is claimed in the same transaction as the operation, so a concurrent retry waits for the
first attempt and then replays its reply; a failed attempt (an exception) stores nothing and may be
retried. Each API passes the exceptions its error body maps (`invalid`, `reused`).
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from project.models import IdempotencyKey

IDEMPOTENCY_KEY_MAX_LENGTH = 255
ErrorFactory = Callable[[str], Exception]


@dataclass
class Reply:
    """A reply as stored for an Idempotency-Key: status, JSON body and the headers worth replaying."""

    status: int
    body: str
    headers: dict[str, str]


def run_idempotently(
    *, username: str, key: str, fingerprint: str, apply: Callable[[], Reply], reused: ErrorFactory
) -> tuple[Reply, bool]:
    """Apply a request once per (user, Idempotency-Key): (reply, replayed)."""
    now = timezone.now()
    with transaction.atomic():
        expired = now - timedelta(hours=settings.IDEMPOTENCY_HOURS)
        IdempotencyKey.objects.filter(username=username, key=key, created_at__lt=expired).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {IdempotencyKey._meta.db_table} (username, key, fingerprint, status, body,"  # noqa: S608 (a constant)
                " headers, created_at) VALUES (%s, %s, %s, NULL, '', '{}', %s)"
                " ON CONFLICT (username, key) DO NOTHING RETURNING id",
                [username, key, fingerprint, now],
            )
            claimed = cursor.fetchone()
        if claimed is None:
            stored = IdempotencyKey.objects.get(username=username, key=key)
            if stored.fingerprint != fingerprint:
                raise reused(
                    f"Idempotency-Key {key!r} was already used with a different request; use a new key"
                )
            return Reply(stored.status, stored.body, stored.headers), True
        reply = apply()
        IdempotencyKey.objects.filter(pk=claimed[0]).update(
            status=reply.status, body=reply.body, headers=reply.headers
        )
    return reply, False


def expire_idempotency_keys() -> int:
    """Forget stored replies older than IDEMPOTENCY_HOURS; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def idempotent(
    request: HttpRequest,
    respond: Callable[[], HttpResponse],
    *,
    invalid: ErrorFactory,
    reused: ErrorFactory,
    stored_headers: tuple[str, ...] = (),
) -> HttpResponse:
    """Answer with `respond()`, once per Idempotency-Key (none sent: simply `respond()`). `invalid`
    builds the refusal of a malformed key, `reused` that of a key sent with another request."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return respond()
    # A header arrives decoded as Latin-1: no lone surrogates, but it may hold NUL, which PostgreSQL
    # text cannot store.
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or "\x00" in key:
        raise invalid(f"'Idempotency-Key' must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters")
    # The trailing slash is optional on the Settle API's paths, so it does not make another request.
    target = f"{request.method} {request.path.rstrip('/')}?{request.META.get('QUERY_STRING', '')}\n"
    fingerprint = hashlib.sha256(target.encode() + request.body).hexdigest()

    def apply() -> Reply:
        response = respond()
        headers = {name: response[name] for name in stored_headers if name in response}
        return Reply(response.status_code, response.content.decode(), headers)

    reply, replayed = run_idempotently(
        username=request.user.get_username(), key=key, fingerprint=fingerprint, apply=apply, reused=reused
    )
    response = HttpResponse(reply.body, status=reply.status, content_type="application/json")
    for name, value in reply.headers.items():
        response[name] = value
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def openapi_parameter(reused: str) -> dict[str, Any]:
    """The header as an OpenAPI parameter; `reused` names the answer to a key reused with another request."""
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
        "description": "Apply this request once: a retry with the same key and the same request replays the"
        " stored reply (status and body) with `Idempotent-Replayed: true`; the same key with another"
        f" request is {reused}. Keys are per user and forgotten after IDEMPOTENCY_HOURS (24).",
    }
