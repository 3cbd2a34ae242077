"""Moneybird webhooks: register one, verify its calls, and queue a debounced sync of the ids they name.

Moneybird POSTs `{administration_id, webhook_id, webhook_token, entity_type, entity_id, state, action,
entity}` for every subscribed event. A call is trusted only when its webhook_token equals the token
Moneybird returned when the webhook was registered (kept in Webhook). The named documents wait in
PendingSync; one django-q2 schedule (ONCE, EXPORTS_WEBHOOK_DEBOUNCE_SECONDS after the first call)
syncs all of them, so a burst of edits costs one sync. The scheduled full sync stays the safety net.
"""

import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from exports.models import PendingSync, Webhook
from exports.moneybird import MoneybirdClient
from project.errors import Forbidden, InvalidInput

logger = logging.getLogger(__name__)

EVENTS = ["document_saved", "document_updated", "document_destroyed"]
# Actions about purchase invoices and receipts (Moneybird calls both "documents").
DOCUMENT_ACTIONS = ("document_", "purchase_invoice_", "receipt_")
PENDING_SCHEDULE = "exports-webhook-sync"
REGISTRATION_WINDOW = timedelta(minutes=5)


def register_webhook(*, client: MoneybirdClient, url: str, events: list[str] | None = None) -> Webhook:
    """Register `url` at Moneybird and keep the token its calls will carry (replacing an earlier
    registration of the same URL here). While Moneybird checks the URL, calls are answered 200."""
    pending = Webhook.objects.create(url=url, events=events or EVENTS)
    try:
        answer = client.register_webhook(url, events or EVENTS)
    except Exception:
        pending.delete()
        raise
    with transaction.atomic():
        Webhook.objects.filter(url=url).exclude(pk=pending.pk).delete()
        pending.moneybird_id, pending.token = str(answer["id"]), str(answer["token"])
        pending.events = answer.get("enabled_events") or pending.events
        pending.save()
    return pending


def _registering() -> bool:
    return Webhook.objects.filter(
        moneybird_id__isnull=True, created_at__gte=timezone.now() - REGISTRATION_WINDOW
    ).exists()


def receive(payload: dict) -> list[str]:
    """Handle one webhook call; returns the document ids queued for a sync.

    Only a call carrying the token of a registered webhook is acted on; anything else is Forbidden,
    except while a registration is under way (Moneybird's check of the URL, before we know the
    webhook's id and token), when it is answered and ignored."""
    webhook_id, token = payload.get("webhook_id"), payload.get("webhook_token")
    # Moneybird's ids are digits; anything else (e.g. a NUL, which PostgreSQL cannot compare) is
    # no registered webhook's.
    known_id = webhook_id is not None and str(webhook_id).isdigit() and str(webhook_id).isascii()
    webhook = Webhook.objects.filter(moneybird_id=str(webhook_id)).first() if known_id else None
    if webhook is None or not hmac.compare_digest(str(token or "").encode(), webhook.token.encode()):
        if webhook is None and _registering():
            return []
        raise Forbidden(
            "Not a call of a registered Moneybird webhook (webhook_token)", code="webhook_token_invalid"
        )
    action, entity_id = payload.get("action"), payload.get("entity_id")
    if not isinstance(action, str) or not action.startswith(DOCUMENT_ACTIONS):
        return []
    if entity_id is None or not str(entity_id).isdigit():
        raise InvalidInput("entity_id must be a Moneybird id", code="invalid_webhook")
    queue_sync([str(entity_id)])
    return [str(entity_id)]


def queue_sync(ids: list[str]) -> None:
    """Remember `ids` and make sure one sync of them is scheduled after the debounce delay."""
    now = timezone.now()
    for moneybird_id in ids:
        PendingSync.objects.update_or_create(moneybird_id=moneybird_id, defaults={"received_at": now})
    Schedule.objects.get_or_create(
        name=PENDING_SCHEDULE,
        defaults={
            "func": "exports.tasks.sync_pending",
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": now + timedelta(seconds=settings.EXPORTS_WEBHOOK_DEBOUNCE_SECONDS),
        },
    )
