"""Checks for the webhook an external cleaning/import module calls to report on a sales file.

Scheme (documented in the README):
* `X-Signature: sha256=<hex>` — HMAC-SHA256 of the raw request body with STATEMENTS_WEBHOOK_SECRET
  (the `sha256=` prefix is optional);
* the signed JSON body carries `event_id` (unique, at most 200 characters), `timestamp` (Unix
  seconds or ISO 8601, within STATEMENTS_WEBHOOK_MAX_AGE of now), `file_id`, `event`
  (`cleaned`, `imported` or `failed`) and, for `failed`, `reason`;
* an accepted `event_id` is stored and never accepted again, so a captured call cannot be replayed;
  the timestamp bounds how long a captured call is worth anything at all.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from statements.rates import storable

EVENTS = ("cleaned", "imported", "failed")


class WebhookRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    file_id: int
    event: str
    reason: str
    payload: dict


def sign(body: bytes, secret: str) -> str:
    """The X-Signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str, secret: str) -> None:
    if not header:
        raise WebhookRejected(401, "missing X-Signature header")
    given = header.strip().removeprefix("sha256=")
    expected = sign(body, secret).removeprefix("sha256=")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRejected(401, "invalid signature")


def parse_event(payload: object, *, now: datetime, max_age: int) -> WebhookEvent:
    """The event of a signed body; WebhookRejected for a malformed or stale one."""
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "the body must be a JSON object")
    if not _storable(payload):
        raise WebhookRejected(400, "the body holds text that cannot be stored (NUL or a lone surrogate)")
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 200:
        raise WebhookRejected(400, "event_id (a unique string of at most 200 characters) is required")
    sent_at = _timestamp(payload.get("timestamp"))
    if abs((now - sent_at).total_seconds()) > max_age:
        raise WebhookRejected(401, f"timestamp is more than {max_age} seconds away from now: replay refused")
    event = payload.get("event")
    if event not in EVENTS:
        raise WebhookRejected(400, f"event must be one of {', '.join(EVENTS)}")
    file_id = payload.get("file_id")
    if not isinstance(file_id, int) or isinstance(file_id, bool):
        raise WebhookRejected(400, "file_id (the sales file id) is required")
    reason = str(payload.get("reason") or "")
    if event == "failed" and not reason:
        raise WebhookRejected(400, "a failed event needs a reason")
    return WebhookEvent(event_id, file_id, event, reason, payload)


def _storable(value: object) -> bool:
    """Whether PostgreSQL can store every string of the payload (which is kept whole, as JSON)."""
    try:
        if isinstance(value, str):
            return storable(value)
        if isinstance(value, dict):
            return all(_storable(key) and _storable(item) for key, item in value.items())
        if isinstance(value, list):
            return all(_storable(item) for item in value)
    except RecursionError:
        return False
    return True


def _timestamp(value: object) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError
            return parsed
    except (ValueError, OverflowError, OSError):
        pass
    raise WebhookRejected(400, "timestamp (Unix seconds or ISO 8601 with a time zone) is required")
