"""Write operations of the sessions app: one function per session transition.

A session is created by `start_session` (the unique constraint on `day` makes it one per day),
run by `sessions_app.run` under a lease (`claim_run` … `succeed_run` / `fail_run`) and closed by
`close_session`. The run's own steps are recorded here too, so every write has one home.
"""

import csv
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ingestion import selectors as ingestion_selectors
from ingestion import services as ingestion_services
from project import db
from project.audit import record_action
from project.mail import queue_email
from project.stored_text import Text
from sessions_app import selectors, texts
from sessions_app.models import ProcessedShipment, Session, SessionStep
from sessions_app.texts import text

logger = logging.getLogger(__name__)
Step = SessionStep.Kind
Outcome = SessionStep.Outcome
# Emails list at most this many invoice numbers; the admin and the session keep the full list.
EMAIL_LIST_LIMIT = 500


class SessionError(Exception):
    """An action the current state does not allow; the message is meant for the operator."""


class AlreadyStarted(SessionError):
    pass


class NotEligible(SessionError):
    pass


class NotClosable(SessionError):
    pass


class NotRunnable(SessionError):
    pass


class UploadNotAllowed(SessionError):
    pass


class NotReopenable(SessionError):
    pass


class LeaseLost(Exception):
    """The session was closed, or another worker took the run over: this run must stop."""


def today() -> date:
    """The current calendar day in TIME_ZONE: sessions are per local day."""
    return timezone.localdate()


def record_step(session: Session, kind: str, outcome: str, message: Text | str = "") -> SessionStep:
    """`message` as a Text (sessions_app.texts) is shown in the reader's language; its English
    sentence is stored beside it."""
    sentence = texts.english(message)
    logger.info("session %s: %s %s %s", session.day, kind, outcome, sentence)
    coded = message if isinstance(message, Text) else Text("")
    return SessionStep.objects.create(
        session=session,
        kind=kind,
        outcome=outcome,
        message=sentence,
        message_code=coded.code,
        message_params=coded.params,
    )


def _who(user: AbstractBaseUser | None) -> str:
    """The user's name, or "" for the command line (rendered in the reader's words)."""
    return user.get_username() if user else ""


def set_failure(session: Session, reason: Text | str) -> None:
    """The failure reason, as an English sentence and as the code the pages translate."""
    coded = reason if isinstance(reason, Text) else Text("")
    session.failure_reason = texts.english(reason)
    session.failure_code, session.failure_params = coded.code, coded.params


def start_session(*, day: date, user: AbstractBaseUser | None = None, enqueue: bool = True) -> Session:
    """Create the day's session for its imported file and queue its run (unless `enqueue` is False)."""
    if ingestion_selectors.day_is_closed(day):
        raise NotEligible(
            _("The session for %(day)s is closed: nothing more can be processed today.")
            % {"day": day.isoformat()}
        )
    invoice_file = ingestion_selectors.imported_file_for_day(day)
    if invoice_file is None:
        raise NotEligible(
            _("No invoice file has been imported for %(day)s yet: the session cannot start.")
            % {"day": day.isoformat()}
        )
    try:
        with transaction.atomic():
            session = Session.objects.create(day=day, invoice_file=invoice_file, started_by=user)
            record_step(
                session, Step.START, Outcome.DONE, text("started_by", who=_who(user), file=invoice_file.name)
            )
    except IntegrityError:
        # The constraint is the only guard, so two operators clicking Start at the same moment get
        # one session and one "already started", whatever the timing.
        raise AlreadyStarted(
            _("The session for %(day)s has already been started.") % {"day": day.isoformat()}
        ) from None
    if enqueue:
        enqueue_run(session)
    return session


def enqueue_run(session: Session) -> str:
    """Hand the run to django-q2 (called after the session row is committed)."""
    from django_q.tasks import async_task

    task_id = async_task("sessions_app.tasks.run_session", session.pk, task_name=f"session-{session.day}")
    # update(), not save(): with inline tasks the run has already changed the row.
    Session.objects.filter(pk=session.pk).update(task_id=str(task_id or ""))
    return task_id


def close_session(*, day: date, user: AbstractBaseUser | None = None, force: bool = False) -> Session:
    """Close the day's session; a session whose run has not succeeded needs `force`."""
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(day=day).first()
        if session is None:
            raise NotClosable(_("No session has been started for %(day)s.") % {"day": day.isoformat()})
        if session.is_closed:
            raise NotClosable(_("The session for %(day)s is already closed.") % {"day": day.isoformat()})
        if not session.is_complete and not force:
            raise NotClosable(
                _("Not all records of %(day)s have been processed: confirm to force-close the session.")
                % {"day": day.isoformat()}
            )
        who = _who(user)
        session.closed_at = timezone.now()
        session.closed_by = user
        session.force_closed = not session.is_complete
        if session.status in (Session.Status.QUEUED, Session.Status.RUNNING):
            # Revoking the lease stops the running task at its next batch or log poll.
            session.status = Session.Status.FAILED
            set_failure(session, text("force_closed_before_end", who=who))
            session.finished_at = session.closed_at
        session.run_token = None
        session.save()
        ingestion_services.close_day(day=day)
        note = "force_closed_by" if session.force_closed else "closed_by"
        record_step(session, Step.CLOSE, Outcome.DONE, text(note, who=who))
    return session


def reopen_session(*, day: date, user: AbstractBaseUser, reason: str) -> Session:
    """Undo a close (a superuser's exception, with the reason in the audit trail and the step log):
    the day's files are imported again and the operator may close once more."""
    reason = reason.strip()
    if not reason:
        raise NotReopenable(_("Say why the session is reopened."))
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(day=day).first()
        if session is None or not session.is_closed:
            raise NotReopenable(_("The session for %(day)s is not closed.") % {"day": day.isoformat()})
        closed = {"closed_at": session.closed_at.isoformat(), "force_closed": session.force_closed}
        session.closed_at = session.closed_by = None
        session.force_closed = False
        session.save(update_fields=["closed_at", "closed_by", "force_closed"])
        ingestion_services.reopen_day(day=day)
        record_step(session, Step.REOPEN, Outcome.DONE, text("reopened_by", who=_who(user), reason=reason))
        record_action("sessions.reopen", target=session, changes={"reason": reason, **closed}, user=user)
    return session


@dataclass(frozen=True)
class UploadResult:
    report: ingestion_services.IngestReport
    for_today: bool


def manual_upload(*, day: date, name: str, content: bytes) -> UploadResult:
    """Import an uploaded invoice file through the same code as the FTP poller.

    Raises ingestion's InvalidFileName for a bad name and UploadNotAllowed, with the page's reason,
    once the day's session has started or the day is closed (its records can no longer change).
    """
    allowed = selectors.day_buttons(day)["upload"]
    if not allowed.enabled:
        raise UploadNotAllowed(allowed.reason)
    report = ingestion_services.ingest_bytes(name=name, content=content, source="manual")
    for_today = report.file is not None and report.file.business_date == day
    return UploadResult(report=report, for_today=for_today)


# --- the run's transitions (called by sessions_app.run) -----------------------------------------


def claim_run(*, session_id: int) -> tuple[Session, uuid.UUID]:
    """Take the run lease of a session that is queued, failed, or running on a dead worker."""
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",)).select_related("invoice_file").get(pk=session_id)
        )
        if session.is_closed:
            raise NotRunnable(
                f"the session for {session.day} is closed: nothing more can be processed that day"
            )
        if session.status == Session.Status.SUCCEEDED:
            raise NotRunnable(f"the session for {session.day} has already completed")
        stale_before = timezone.now() - timedelta(seconds=settings.SESSIONS_RUN_LEASE_SECONDS)
        if (
            session.status == Session.Status.RUNNING
            and session.heartbeat_at
            and session.heartbeat_at > stale_before
        ):
            raise NotRunnable(
                f"the session for {session.day} is being run by another worker"
                f" (last sign of life {timezone.localtime(session.heartbeat_at):%H:%M:%S})"
            )
        params = {} if session.status == Session.Status.QUEUED else {"status": session.status}
        code = "run_started" if session.status == Session.Status.QUEUED else "run_resumed"
        if session.failure_reason:
            code += "_after_failure"
            params["previous"] = {
                "code": session.failure_code,
                "params": session.failure_params,
                "text": session.failure_reason,
            }
        message = text(code, **params)
        token = uuid.uuid4()
        session.status = Session.Status.RUNNING
        session.run_token = token
        session.heartbeat_at = timezone.now()
        set_failure(session, "")
        session.finished_at = None
        session.save()
        record_step(session, Step.RUN, Outcome.STARTED, message)
    return session, token


def heartbeat(*, session: Session, token: uuid.UUID) -> None:
    """Refresh the lease; LeaseLost when the session was closed or taken over meanwhile."""
    if not Session.objects.filter(pk=session.pk, run_token=token).update(heartbeat_at=timezone.now()):
        raise LeaseLost(f"session {session.day}: the run lost its lease (closed or taken over)")


def begin_generation(
    *, session: Session, token: uuid.UUID, csv_name: str, total: int, not_found: list[str], past: list[str]
) -> None:
    """Forget what a crashed generation left behind and record what this one will produce."""
    with transaction.atomic():
        heartbeat(session=session, token=token)
        ProcessedShipment.objects.filter(session=session).delete()
        session.csv_name = csv_name
        session.total = total
        session.not_found = not_found
        session.past = past
        session.save(update_fields=["csv_name", "total", "not_found", "past"])
        record_step(
            session,
            Step.GENERATE,
            Outcome.STARTED,
            text("generating", total=total, not_found=len(not_found), past=len(past)),
        )


def record_batch(*, session: Session, token: uuid.UUID, first_position: int, rows: list[dict]) -> None:
    """Store one batch of generated lines (the progress operators see) under the lease."""
    records = [
        (session.pk, first_position + offset, row["invoice_number"], row["quantity"], row["value"])
        for offset, row in enumerate(rows)
    ]
    with transaction.atomic():
        heartbeat(session=session, token=token)
        _insert_shipments(records)


def _insert_shipments(records: list[tuple]) -> None:
    """COPY (several times faster than INSERT for large days)."""
    fields = ["session_id", "position", "invoice_number", "quantity", "value"]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(records)
    db.copy_from(ProcessedShipment._meta.db_table, fields, [buffer.getvalue()], options="FORMAT csv")


def complete_generation(*, session: Session, token: uuid.UUID, csv_path: str) -> None:
    with transaction.atomic():
        heartbeat(session=session, token=token)
        session.csv_path = csv_path
        session.generated_at = timezone.now()
        session.save(update_fields=["csv_path", "generated_at"])
        record_step(
            session, Step.GENERATE, Outcome.DONE, text("generated", csv=session.csv_name, total=session.total)
        )


def complete_upload(*, session: Session, token: uuid.UUID, message: Text) -> None:
    """Record that the CSV is on the outbound server, so a resumed run never uploads it again."""
    with transaction.atomic():
        heartbeat(session=session, token=token)
        session.uploaded_at = timezone.now()
        session.save(update_fields=["uploaded_at"])
        record_step(session, Step.UPLOAD, Outcome.DONE, message)


def record_log_entry(*, session: Session, token: uuid.UUID, records: int, line: str) -> None:
    with transaction.atomic():
        heartbeat(session=session, token=token)
        session.records_read = records
        session.confirmed_at = timezone.now()
        session.save(update_fields=["records_read", "confirmed_at"])
        record_step(session, Step.LOG_CHECK, Outcome.DONE, text("log_line", line=line))


def succeed_run(*, session: Session, token: uuid.UUID) -> None:
    """Mark the run successful and queue the result email in the same transaction."""
    with transaction.atomic():
        heartbeat(session=session, token=token)
        session.status = Session.Status.SUCCEEDED
        session.finished_at = timezone.now()
        session.run_token = None
        session.save(update_fields=["status", "finished_at", "run_token"])
        recipients = settings.SESSIONS_RESULT_RECIPIENTS
        queue_email(template="sessions_app/result", context=_email_context(session), to=recipients)
        record_step(
            session, Step.NOTIFY, Outcome.DONE, text("result_queued", recipients=", ".join(recipients))
        )


def fail_run(*, session: Session, token: uuid.UUID, step: str, reason: Text | str) -> bool:
    """Mark the run failed and queue the alert; False when the run had already lost its lease."""
    with transaction.atomic():
        locked = Session.objects.select_for_update().filter(pk=session.pk, run_token=token).first()
        if locked is None:
            return False
        locked.status = Session.Status.FAILED
        set_failure(locked, reason)
        locked.finished_at = timezone.now()
        locked.run_token = None
        locked.save(
            update_fields=[
                "status",
                "failure_reason",
                "failure_code",
                "failure_params",
                "finished_at",
                "run_token",
            ]
        )
        record_step(locked, step, Outcome.FAILED, reason)
        queue_email(
            template="sessions_app/alert",
            context=_email_context(locked),
            to=settings.SESSIONS_RESULT_RECIPIENTS,
        )
    session.refresh_from_db()
    return True


def _email_context(session: Session) -> dict:
    return {
        "session": session,
        "day": session.day,
        "file_name": session.invoice_file.name,
        "generated": session.total or 0,
        "generated_at": session.generated_at,
        "records_read": session.records_read,
        "not_found": session.not_found[:EMAIL_LIST_LIMIT],
        "not_found_count": len(session.not_found),
        "past_count": len(session.past),
        "list_truncated": len(session.not_found) > EMAIL_LIST_LIMIT,
        "steps": list(session.steps.all()),
    }
