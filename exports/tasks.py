"""django-q2 entry points of the exports app: thin wrappers over the sync."""

import logging

from django.conf import settings

from exports import sync
from exports.moneybird import client_from_settings, configuration_problem
from project.schedules import ScheduleSpec

logger = logging.getLogger(__name__)

# Always declared, so it shows in the admin; the task itself does nothing until a token is set.
SCHEDULES = [
    ScheduleSpec(
        name="exports-sync-moneybird",
        func="exports.tasks.sync_moneybird",
        minutes=settings.EXPORTS_SYNC_MINUTES,
    )
]


def sync_moneybird() -> dict:
    """Full sync with MONEYBIRD_TOKEN (the demo's fake Moneybird in the demo); a no-op, not an error,
    while a real Moneybird is not configured."""
    problem = configuration_problem()
    if problem:
        logger.info("Moneybird sync skipped: %s", problem)
        return {"skipped": True}
    return sync.sync_documents(client=client_from_settings()).as_dict()


def sync_pending() -> dict:
    """Sync the documents webhook calls named (scheduled by exports.webhooks.queue_sync)."""
    return sync.sync_pending(client=client_from_settings()).as_dict()
