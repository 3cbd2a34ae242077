"""django-q2 entry points of the sessions app: thin wrappers over services."""

import logging

from sessions_app import run, services

logger = logging.getLogger(__name__)
SCHEDULES: list = []


def run_session(session_id: int) -> str:
    """Run or resume a session; a re-delivered task for a finished or busy session is a no-op."""
    try:
        session = run.run_session(session_id=session_id)
    except services.NotRunnable as exc:
        logger.info("session run %s skipped: %s", session_id, exc)
        return f"skipped: {exc}"
    return session.status
