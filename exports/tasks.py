"""django-q2 entry points of the exports app: thin wrappers over services."""

import logging

from django.conf import settings

from exports import services
from exports.moneybird import client_from_settings
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
    """Sync with MONEYBIRD_TOKEN; a no-op (not an error) while Moneybird is not configured."""
    if not settings.MONEYBIRD_TOKEN or not settings.MONEYBIRD_ADMINISTRATION_ID:
        logger.info("Moneybird sync skipped: MONEYBIRD_TOKEN or MONEYBIRD_ADMINISTRATION_ID not set")
        return {"skipped": True}
    return services.sync_documents(client=client_from_settings()).as_dict()
