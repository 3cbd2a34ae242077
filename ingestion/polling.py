"""One tick of the inbound FTP poller: fetch the due files without ever losing one, then the alert.

Due files are the `Letture…` files of today and of earlier days: a file that landed after a day's
last poll (Friday evening) is imported at the next tick, as a late file of its own day.

Order per file: download to a temporary file (size verified), archive + record it (ingest_bytes),
and only then delete the remote copy. A crash anywhere leaves the remote file or the archived,
recorded copy; the next tick downloads again and, finding the file recorded, just deletes it.
"""

import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation

from ingestion import selectors, services, texts
from ingestion.models import InvoiceFile
from ingestion.parsing import InvalidFileName, parse_file_name
from ingestion.progress import ProgressCallback
from project.integrations import ftp

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    """What one tick did; `error` is set when the server could not be reached or dropped us."""

    processed: dict[str, str] = field(default_factory=dict)  # name → imported/rejected/duplicate
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str = ""
    alert_sent: bool = False

    @property
    def details(self) -> dict:
        """What the poll did, stored with it (FtpPoll.details) and shown in the reader's language."""
        files = self.processed | dict.fromkeys(self.failed, "failed")
        return {
            "files": files,
            "skipped": len(self.skipped),
            "error": self.error,
            "alert_sent": self.alert_sent,
        }

    def summary(self) -> str:
        """The details in English (the command's output, the task's result, the logs)."""
        with translation.override("en"):
            return texts.poll_summary(self.details)


def poll_inbound(*, now: datetime | None = None, on_progress: ProgressCallback | None = None) -> PollResult:
    """Fetch every `Letture…` file of today or earlier from the inbound server; send the no-file
    alert if due; record the poll. `on_progress` is passed to `ingest_bytes` for every file (the
    `poll_ftp` command prints it)."""
    started_at = timezone.now()
    now = timezone.localtime(now)
    result = PollResult()
    host = selectors.inbound_host()
    try:
        with ftp.connect(settings.INGESTION_FTP_URL, timeout=settings.INGESTION_FTP_TIMEOUT) as connection:
            for name in ftp.list_names(connection):
                if not _is_due(name, now.date()):
                    logger.info(
                        "inbound FTP %s: leaving %s alone (not a Letture file of %s or earlier)",
                        host,
                        name,
                        now.date(),
                    )
                    result.skipped.append(name)
                    continue
                try:
                    result.processed[name] = _fetch(connection, name, on_progress)
                except ftp.ERRORS as exc:
                    logger.warning(
                        "inbound FTP %s: %s not fetched (%s); retrying at the next tick", host, name, exc
                    )
                    result.failed.append(name)
                except Exception:  # a bug or a database outage: the other files still get their turn
                    logger.exception("inbound FTP %s: %s not fetched; retrying at the next tick", host, name)
                    result.failed.append(name)
    except ftp.ERRORS as exc:
        logger.error("inbound FTP %s unavailable: %s; retrying at the next tick", host, exc)
        result.error = f"{type(exc).__name__}: {exc}"
    if now.time() >= _alert_after() and not selectors.file_for_day_exists(now.date()):
        result.alert_sent = services.send_no_file_alert(day=now.date())
    services.record_poll(
        started_at=started_at, succeeded=not result.error, summary=result.summary(), details=result.details
    )
    return result


def _is_due(name: str, today: date) -> bool:
    """A `Letture…` file of today or earlier (a file dated in the future is left for its day)."""
    try:
        return parse_file_name(name).business_date <= today
    except InvalidFileName:
        return False


def _fetch(connection, name: str, on_progress: ProgressCallback | None) -> str:
    with tempfile.TemporaryDirectory(prefix="ingestion-") as folder:
        path = Path(folder) / name
        ftp.download(connection, name, path)
        content = path.read_bytes()
    report = services.ingest_bytes(
        name=name, content=content, source=InvoiceFile.Source.FTP, on_progress=on_progress
    )
    if report.status == "duplicate" and report.file.name == name:
        if report.file.sha256 != hashlib.sha256(content).hexdigest():
            # Same name, different bytes: deleting it would lose data nobody has seen.
            logger.error("inbound FTP: %s differs from the file already imported under that name; left", name)
            return "conflict"
        logger.info("inbound FTP: %s was already received; deleting the remote copy", name)
    ftp.delete(connection, name)
    logger.info("inbound FTP: %s %s and deleted from the server", name, report.status)
    return report.status


def _alert_after():
    return datetime.strptime(settings.INGESTION_NO_FILE_ALERT_AFTER, "%H:%M").time()
