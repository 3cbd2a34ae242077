"""The session run: generate the CSV, upload it, wait for the receiver's log, report.

Every step records its completion on the session, so a re-run (task retry or `run_session`)
skips what is done: a generated CSV is not regenerated and an uploaded one is never sent again.
"""

import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ingestion import selectors as ingestion_selectors
from ingestion.models import InvoiceFile
from project import storage
from project.integrations import ftp, ssh
from project.stored_text import Text
from sessions_app import remote_log, services, texts
from sessions_app.csvfile import csv_file_name, csv_writer, write_header, write_rows
from sessions_app.models import Session, SessionStep
from sessions_app.texts import text

logger = logging.getLogger(__name__)
Step = SessionStep.Kind
Outcome = SessionStep.Outcome
Reporter = Callable[[str], None]


class RunFailed(Exception):
    """A failure the alert email reports: `step` is where it happened, `reason` what happened (a
    Text of sessions_app.texts, or a sentence that has none)."""

    def __init__(self, step: str, reason: Text | str):
        super().__init__(texts.english(reason))
        self.step = step
        self.reason = reason


def run_session(*, session_id: int, report: Reporter = logger.info) -> Session:
    """Run (or resume) one session to success or failure; NotRunnable if it may not run now."""
    session, token = services.claim_run(session_id=session_id)
    run = _Run(session=session, token=token, report=report)
    try:
        run.generate()
        run.upload()
        run.check_log()
        services.succeed_run(session=session, token=token)
        report(f"session {session.day}: succeeded, {session.total} records read by the receiver")
    except RunFailed as failure:
        if services.fail_run(session=session, token=token, step=failure.step, reason=failure.reason):
            report(f"session {session.day}: FAILED at {failure.step}: {failure}")
    except services.LeaseLost as lost:
        report(str(lost))
    except Exception as exc:
        services.fail_run(
            session=session, token=token, step=Step.RUN, reason=text("unexpected_error", error=repr(exc))
        )
        raise
    session.refresh_from_db()
    return session


class _Run:
    def __init__(self, *, session: Session, token: uuid.UUID, report: Reporter):
        self.session = session
        self.token = token
        self.report = report
        self.last_log_error = ""

    def note(self, kind: str, outcome: str, message: Text) -> None:
        services.record_step(self.session, kind, outcome, message)
        self.report(f"{kind} {outcome}: {texts.english(message)}")

    def generate(self) -> None:
        session = self.session
        if session.generated_at and (session.uploaded_at or storage.exists(session.csv_path)):
            self.note(Step.GENERATE, Outcome.SKIPPED, text("already_generated", csv=session.csv_name))
            return
        invoice_file = session.invoice_file
        if invoice_file.status != InvoiceFile.Status.IMPORTED:
            raise RunFailed(
                Step.GENERATE,
                text(
                    "invalid_file",
                    file=invoice_file.name,
                    status=invoice_file.status,
                    reason={
                        "code": invoice_file.reason_code,
                        "params": invoice_file.reason_params,
                        "text": invoice_file.reason,
                    },
                ),
            )
        fields = list(settings.SESSIONS_CSV_FIELDS)
        unknown = sorted(set(fields) - set(ingestion_selectors.SHIPMENT_COLUMNS))
        if unknown or not fields:
            raise RunFailed(Step.GENERATE, text("bad_csv_fields", fields=", ".join(unknown)))
        # Known invoices may have arrived since the import: look them up again now.
        shipments = ingestion_selectors.shipment_rows(invoice_file=invoice_file, today=timezone.localdate())
        if not shipments.rows:
            raise RunFailed(
                Step.GENERATE,
                text(
                    "nothing_to_generate",
                    file=invoice_file.name,
                    not_found=len(shipments.not_found),
                    past=len(shipments.past),
                ),
            )
        name = csv_file_name(prefix=settings.SESSIONS_CSV_PREFIX, day=session.day, session_id=session.pk)
        services.begin_generation(
            session=session,
            token=self.token,
            csv_name=name,
            total=len(shipments.rows),
            not_found=shipments.not_found,
            past=shipments.past,
        )
        batch_size = max(settings.SESSIONS_BATCH_SIZE, 1)
        with tempfile.TemporaryDirectory(prefix="session-") as folder:
            local = Path(folder) / name
            with local.open("w", encoding="utf-8", newline="") as handle:
                writer = csv_writer(handle, separator=settings.SESSIONS_CSV_SEPARATOR)
                write_header(writer, fields)
                for start in range(0, len(shipments.rows), batch_size):
                    batch = shipments.rows[start : start + batch_size]
                    write_rows(writer, batch, fields)
                    services.record_batch(
                        session=session, token=self.token, first_position=start + 1, rows=batch
                    )
                    self.report(f"generated {start + len(batch)}/{len(shipments.rows)}")
            path = _store(local, f"sessions/{session.day.isoformat()}/{name}")
        services.complete_generation(session=session, token=self.token, csv_path=path)
        self.report(f"generate done: {path}")

    def upload(self) -> None:
        session = self.session
        if session.uploaded_at:
            self.note(Step.UPLOAD, Outcome.SKIPPED, text("already_uploaded", csv=session.csv_name))
            return
        # A worker that died between the upload and recording it leaves a file the receiver may
        # already have read: its log line proves it, and uploading again would duplicate shipments.
        if self._log_entry() is not None:
            services.complete_upload(
                session=session,
                token=self.token,
                message=text("upload_found_in_log", csv=session.csv_name),
            )
            return
        host = ftp.FtpEndpoint.from_url(settings.SESSIONS_FTP_URL).host
        self.note(Step.UPLOAD, Outcome.STARTED, text("uploading", csv=session.csv_name, host=host))
        try:
            with tempfile.TemporaryDirectory(prefix="session-") as folder:
                local = Path(folder) / session.csv_name
                storage.download(session.csv_path, local)
                with ftp.connect(settings.SESSIONS_FTP_URL, timeout=settings.SESSIONS_FTP_TIMEOUT) as conn:
                    ftp.upload_atomically(conn, local, session.csv_name)
        except (
            Exception
        ) as exc:  # ftplib raises OSError, EOFError or its own classes: all mean "not uploaded"
            raise RunFailed(
                Step.UPLOAD, text("upload_failed", csv=session.csv_name, host=host, error=str(exc))
            ) from exc
        services.complete_upload(
            session=session, token=self.token, message=text("uploaded", csv=session.csv_name, host=host)
        )
        self.report(f"upload done: {session.csv_name} uploaded to {host}")

    def check_log(self) -> None:
        session = self.session
        timeout = settings.SESSIONS_LOG_TIMEOUT
        interval = max(settings.SESSIONS_LOG_POLL_INTERVAL, 0.05)
        self.note(
            Step.LOG_CHECK,
            Outcome.STARTED,
            text("waiting_for_log", timeout=timeout, csv=session.csv_name, path=settings.SESSIONS_LOG_PATH),
        )
        deadline = time.monotonic() + timeout
        while (entry := self._log_entry()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                values = {"csv": session.csv_name, "timeout": timeout}
                if self.last_log_error:
                    raise RunFailed(
                        Step.LOG_CHECK, text("log_timeout_error", **values, error=self.last_log_error)
                    )
                raise RunFailed(Step.LOG_CHECK, text("log_timeout", **values))
            services.heartbeat(session=session, token=self.token)
            time.sleep(min(interval, remaining))
        services.record_log_entry(session=session, token=self.token, records=entry.records, line=entry.line)
        self.report(f"log_check done: {entry.line}")
        if entry.records != session.total:
            missing = session.total - entry.records
            values = {"records": entry.records, "total": session.total, "csv": session.csv_name}
            if missing > 0:
                raise RunFailed(Step.LOG_CHECK, text("records_missing", **values, missing=missing))
            raise RunFailed(Step.LOG_CHECK, text("records_extra", **values, extra=-missing))

    def _log_entry(self) -> remote_log.LogEntry | None:
        """The log line about this CSV, or None (also when the log server cannot be reached now)."""
        try:
            pattern = remote_log.compile_pattern(settings.SESSIONS_LOG_PATTERN)
        except remote_log.LogPatternError as exc:
            raise RunFailed(Step.LOG_CHECK, str(exc)) from None
        try:
            text = ssh.read_text(settings.SESSIONS_LOG_FS_URL, settings.SESSIONS_LOG_PATH)
        except Exception as exc:  # fs, paramiko and socket errors alike: the log host is unreachable now
            self.last_log_error = f"{type(exc).__name__}: {exc}"
            logger.warning(
                "session %s: cannot read the remote log: %s", self.session.day, self.last_log_error
            )
            return None
        return remote_log.find_entry(text, pattern=pattern, filename=self.session.csv_name)


def _store(local: Path, key: str) -> str:
    """Keep the CSV in the default storage (S3 in production) so any worker can resume the upload."""
    with local.open("rb") as handle:
        storage.save(key, handle)
    return key
