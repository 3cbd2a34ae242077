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


def register_webhook(*, client: MoneybirdClient, url: str, events: list[str] | None = None) -> Webhook:
    """Register `url` at Moneybird and keep the token its calls will carry (replacing an earlier
    registration of the same URL here)."""
    answer = client.register_webhook(url, events or EVENTS)
    with transaction.atomic():
        Webhook.objects.filter(url=url).delete()
        return Webhook.objects.create(
            moneybird_id=str(answer["id"]),
            url=url,
            events=answer.get("enabled_events") or events or EVENTS,
            token=str(answer["token"]),
        )


def receive(payload: object) -> list[str]:
    """Handle one webhook call; returns the document ids queued for a sync.

    A call without webhook_id (Moneybird's check when a URL is registered) or for a webhook we do not
    know is answered but does nothing; a known webhook with the wrong token is Forbidden."""
    if not isinstance(payload, dict):
        raise InvalidInput("A webhook call is a JSON object", code="invalid_webhook")
    webhook_id, token = payload.get("webhook_id"), payload.get("webhook_token")
    if not isinstance(webhook_id, str | int) or isinstance(webhook_id, bool):
        return []
    webhook = Webhook.objects.filter(moneybird_id=str(webhook_id)).first()
    if webhook is None:
        logger.warning("Moneybird webhook call for unknown webhook %s ignored", webhook_id)
        return []
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), webhook.token.encode()):
        raise Forbidden(
            "The webhook token does not match the registered webhook", code="webhook_token_invalid"
        )
    action, entity_id = payload.get("action"), payload.get("entity_id")
    if not isinstance(action, str) or not action.startswith(DOCUMENT_ACTIONS):
        return []
    if not isinstance(entity_id, str | int) or isinstance(entity_id, bool) or not str(entity_id).isdigit():
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
