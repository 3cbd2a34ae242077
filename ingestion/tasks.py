"""django-q2 entry points of the ingestion app: thin wrappers over services."""

import logging

from ingestion import polling
from project.schedules import ScheduleSpec

logger = logging.getLogger(__name__)

# Every 30 minutes from 08:00 to 20:00 inclusive, Monday to Friday, in TIME_ZONE (django-q2's
# time_zone): the half-hours up to 19:30, plus 20:00 itself.
SCHEDULES = [
    ScheduleSpec(name="ingestion-poll-ftp", func="ingestion.tasks.poll_ftp", cron="*/30 8-19 * * 1-5"),
    ScheduleSpec(name="ingestion-poll-ftp-last", func="ingestion.tasks.poll_ftp", cron="0 20 * * 1-5"),
]


def poll_ftp() -> str:
    """One poller tick; never raises, so a failed tick is simply retried by the next one."""
    try:
        return polling.poll_inbound().summary()
    except Exception:
        logger.exception("inbound FTP poll failed; retrying at the next tick")
        return "failed"
