"""Read operations of the sessions app: the state of a day and what the operator may do in it."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ingestion import selectors as ingestion_selectors
from ingestion.models import FtpPoll, InvoiceFile
from sessions_app.models import Session, SessionStep

RECENT_STEPS = 20
PAST_SESSIONS = 30

# What operators read in the session log instead of the stored step kinds and outcomes.
STEP_LABELS = {
    SessionStep.Kind.START: gettext_lazy("Session started"),
    SessionStep.Kind.RUN: gettext_lazy("Run"),
    SessionStep.Kind.GENERATE: gettext_lazy("CSV generation"),
    SessionStep.Kind.UPLOAD: gettext_lazy("Upload to the outbound FTP"),
    SessionStep.Kind.LOG_CHECK: gettext_lazy("Receiver's log check"),
    SessionStep.Kind.NOTIFY: gettext_lazy("Result email"),
    SessionStep.Kind.CLOSE: gettext_lazy("Session closed"),
    SessionStep.Kind.REOPEN: gettext_lazy("Session reopened"),
}
OUTCOME_LABELS = {
    SessionStep.Outcome.STARTED: gettext_lazy("started"),
    SessionStep.Outcome.DONE: gettext_lazy("done"),
    SessionStep.Outcome.SKIPPED: gettext_lazy("skipped (already done)"),
    SessionStep.Outcome.FAILED: gettext_lazy("failed"),
}


@dataclass(frozen=True)
class LogEntry:
    """A session step as operators read it."""

    at: datetime
    kind: str
    label: str
    outcome: str
    failed: bool
    message: str

    @classmethod
    def of(cls, step: SessionStep) -> "LogEntry":
        return cls(
            at=timezone.localtime(step.created_at),
            kind=step.kind,
            label=str(STEP_LABELS.get(step.kind, step.kind)),
            outcome=str(OUTCOME_LABELS.get(step.outcome, step.outcome)),
            failed=step.outcome == SessionStep.Outcome.FAILED,
            message=step.text,
        )

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "when": f"{self.at:%Y-%m-%d %H:%M:%S}",
            "kind": self.kind,
            "label": self.label,
            "outcome": self.outcome,
            "failed": self.failed,
            "message": self.message,
        }


@dataclass(frozen=True)
class FtpInfo:
    """When the inbound FTP server was last checked and when the schedule checks it next."""

    last_poll: FtpPoll | None
    next_poll_at: datetime | None

    @property
    def next_is_overdue(self) -> bool:
        """The schedule's next run is in the past: the task cluster is not running."""
        return self.next_poll_at is not None and self.next_poll_at < timezone.now()

    def as_json(self) -> dict:
        poll = self.last_poll

        def when(value):
            return timezone.localtime(value).isoformat() if value else None

        return {
            "last_polled_at": when(poll.finished_at if poll else None),
            "last_succeeded": poll.succeeded if poll else None,
            "last_summary": poll.summary_text if poll else "",
            "next_poll_at": when(self.next_poll_at),
            "next_is_overdue": self.next_is_overdue,
        }


def ftp_info() -> FtpInfo:
    return FtpInfo(last_poll=ingestion_selectors.last_poll(), next_poll_at=ingestion_selectors.next_poll_at())


@dataclass(frozen=True)
class Button:
    enabled: bool
    reason: str = ""

    def as_json(self) -> dict:
        return {"enabled": self.enabled, "reason": self.reason}


@dataclass
class DayStatus:
    """Everything the page, the JSON endpoint and `session_status` show about one day."""

    day: date
    state: str  # no_file | eligible | queued | running | succeeded | failed | closed
    session: Session | None
    invoice_file: InvoiceFile | None
    processed: int
    total: int | None
    phase: str
    status_line: str
    buttons: dict[str, Button]
    steps: list[LogEntry] = field(default_factory=list)
    ftp: FtpInfo | None = None
    updated_at: datetime = field(default_factory=timezone.localtime)

    @property
    def percent(self) -> int:
        return min(100, self.processed * 100 // self.total) if self.total else 0

    @property
    def force_close(self) -> bool:
        """Closing now needs the operator's confirmation (records left unprocessed)."""
        return self.session is not None and not self.session.is_complete

    def as_json(self) -> dict:
        session = self.session
        return {
            "day": self.day.isoformat(),
            "status": self.state,
            "eligible": self.invoice_file is not None,
            "file": self.invoice_file.name if self.invoice_file else None,
            "processed": self.processed,
            "total": self.total,
            "percent": self.percent,
            "phase": self.phase,
            "status_line": self.status_line,
            "force_close": self.force_close,
            "buttons": {name: button.as_json() for name, button in self.buttons.items()},
            "session": _session_json(session) if session else None,
            "steps": [step.as_json() for step in self.steps],
            "ftp": self.ftp.as_json() if self.ftp else None,
            "updated_at": f"{self.updated_at:%H:%M:%S}",
        }


def session_for_day(day: date) -> Session | None:
    return Session.objects.select_related("invoice_file", "started_by", "closed_by").filter(day=day).first()


def day_status(day: date) -> DayStatus:
    """The day's session (or eligibility), its progress from the database and the allowed actions."""
    session = session_for_day(day)
    if session is None:
        invoice_file = ingestion_selectors.imported_file_for_day(day)
        processed, total = 0, _expected_lines(invoice_file)
        steps = []
    else:
        invoice_file = session.invoice_file
        processed = session.shipments.count()
        total = session.total if session.total is not None else _expected_lines(invoice_file)
        steps = [LogEntry.of(step) for step in session.steps.order_by("-created_at", "-id")[:RECENT_STEPS]][
            ::-1
        ]
    state = _state(session, invoice_file, closed=ingestion_selectors.day_is_closed(day))
    return DayStatus(
        day=day,
        state=state,
        session=session,
        invoice_file=invoice_file,
        processed=processed,
        total=total,
        phase=_phase(session, invoice_file),
        status_line=_status_line(day, session, invoice_file, processed, total),
        buttons=_buttons(day, state),
        steps=steps,
        ftp=ftp_info(),
    )


def _expected_lines(invoice_file: InvoiceFile | None) -> int | None:
    """Lines the CSV should get as of the import; the run re-checks the invoices and fixes the total."""
    if invoice_file is None:
        return None
    return max(invoice_file.imported_count - invoice_file.not_found_count - invoice_file.past_count, 0)


def day_buttons(day: date) -> dict[str, Button]:
    """What the operator may do on `day`: the page shows it, and the services refuse the same."""
    session = session_for_day(day)
    invoice_file = session.invoice_file if session else ingestion_selectors.imported_file_for_day(day)
    return _buttons(day, _state(session, invoice_file, closed=ingestion_selectors.day_is_closed(day)))


def _state(session: Session | None, invoice_file: InvoiceFile | None, *, closed: bool) -> str:
    """`closed` is ingestion's word (its closed days refuse files), so a day closed there is closed
    here too, even without a session row."""
    if closed or (session is not None and session.is_closed):
        return "closed"
    if session is None:
        return "eligible" if invoice_file is not None else "no_file"
    return session.status


def _status_line(
    day: date, session: Session | None, invoice_file: InvoiceFile | None, processed: int, total: int | None
) -> str:
    """The day's state in one sentence: what the page's heading says."""
    values = {"day": day.isoformat(), "processed": processed, "total": total if total is not None else "?"}
    if session is None and ingestion_selectors.day_is_closed(day):
        return _("The session for %(day)s is closed: nothing more can be processed today.") % values
    if session is None and invoice_file is None:
        return _("No session for %(day)s - waiting for the day's invoice file") % values
    if session is None:
        return (
            ngettext(
                "No session for %(day)s yet - %(total)s shipment ready to process",
                "No session for %(day)s yet - %(total)s shipments ready to process",
                total or 0,
            )
            % values
        )
    counter = (
        ngettext(
            "%(processed)s shipment processed out of %(total)s total",
            "%(processed)s shipments processed out of %(total)s total",
            processed,
        )
        % values
    )
    values["counter"] = counter
    values["reason"] = session.failure_text
    Status = Session.Status
    if session.is_closed and session.status == Status.SUCCEEDED:
        return _("Session closed for %(day)s - completed, %(counter)s") % values
    if session.is_closed:
        return _("Session closed for %(day)s - failed (%(reason)s), %(counter)s") % values
    if session.status == Status.SUCCEEDED:
        return _("Session completed for %(day)s - waiting to close, %(counter)s") % values
    if session.status == Status.FAILED:
        return _("Session failed for %(day)s: %(reason)s - %(counter)s") % values
    return _("Session opened for %(day)s - %(counter)s") % values


def _phase(session: Session | None, invoice_file: InvoiceFile | None) -> str:
    """What the session's task is doing (or did), in the operator's words."""
    if session is None:
        if invoice_file is None:
            return _("Import the day's file (it arrives by FTP) or use Manual session upload.")
        return _("%(file)s is imported: the session can be started.") % {"file": invoice_file.name}
    Status = Session.Status
    if session.status == Status.QUEUED:
        phase = _("Waiting for a worker to start the run.")
    elif session.status == Status.RUNNING and not session.generated_at:
        phase = _("Generating the CSV file.")
    elif session.status == Status.RUNNING and not session.uploaded_at:
        phase = _("Uploading %(csv)s.") % {"csv": session.csv_name}
    elif session.status == Status.RUNNING:
        phase = _("Waiting for the receiver to read %(csv)s.") % {"csv": session.csv_name}
    elif session.status == Status.SUCCEEDED:
        phase = _("Completed: the receiver read %(records)s records of %(csv)s.") % {
            "records": session.records_read,
            "csv": session.csv_name,
        }
    else:
        phase = _("Failed: %(reason)s") % {"reason": session.failure_text}
    if session.is_closed:
        closed = _("Force-closed.") if session.force_closed else _("Closed.")
        phase = f"{phase} {closed}"
    return phase


def _buttons(day: date, state: str) -> dict[str, Button]:
    values = {"day": day.isoformat()}
    started = _("The session for %(day)s has already been started.") % values
    upload_started = (
        _("The session for %(day)s has already started: no more files can be processed today.") % values
    )
    closed = _("The session for %(day)s is closed: nothing more can be processed today.") % values
    no_session = _("No session has been started for %(day)s.") % values
    if state == "no_file":
        start = Button(False, _("No invoice file has been imported for %(day)s yet.") % values)
    elif state == "eligible":
        start = Button(True)
    else:
        start = Button(False, closed if state == "closed" else started)
    if state in ("no_file", "eligible"):
        close, upload = Button(False, no_session), Button(True)
    elif state == "closed":
        close, upload = Button(False, closed), Button(False, closed)
    else:
        close, upload = Button(True), Button(False, upload_started)
    return {"start": start, "status": Button(True), "close": close, "upload": upload}


def _session_json(session: Session) -> dict:
    def when(value):
        return timezone.localtime(value).isoformat() if value else None

    return {
        "id": session.pk,
        "status": session.status,
        "closed": session.is_closed,
        "force_closed": session.force_closed,
        "file": session.invoice_file.name,
        "started_at": when(session.started_at),
        "started_by": session.started_by.get_username() if session.started_by else None,
        "csv_name": session.csv_name,
        "generated_at": when(session.generated_at),
        "uploaded_at": when(session.uploaded_at),
        "confirmed_at": when(session.confirmed_at),
        "records_read": session.records_read,
        "not_found": len(session.not_found),
        "finished_at": when(session.finished_at),
        # The reason in the request's language, and as its code and parameters (sessions_app.texts;
        # "" for a row written before the codes).
        "failure_reason": session.failure_text,
        "failure_code": session.failure_code,
        "failure_params": session.failure_params,
        "closed_at": when(session.closed_at),
        "closed_by": session.closed_by.get_username() if session.closed_by else None,
    }


def past_sessions(*, before: date, limit: int = PAST_SESSIONS) -> QuerySet[Session]:
    """The sessions of the days before `before`, newest first, with their file."""
    return Session.objects.select_related("invoice_file").filter(day__lt=before).order_by("-day")[:limit]


def session_csv(*, session_id: int) -> Session | None:
    """The session whose generated CSV can be downloaded (None when there is none)."""
    return Session.objects.exclude(csv_path="").filter(pk=session_id).first()
