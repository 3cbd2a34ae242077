"""The session run against real servers: outbound FTP, the receiver's log over sshd, SMTP, PostgreSQL."""

import csv
import io

import pytest

from ingestion.models import InvoiceFile, KnownInvoice
from project.mail import deliver_outbox
from project.models import OutboundEmail
from sessions_app import run, services
from sessions_app.models import ProcessedShipment, Session, SessionStep
from tests.sessions_app.conftest import FUTURE, expected_csv_name, numbers

pytestmark = pytest.mark.django_db


def start(day_file) -> Session:
    return services.start_session(day=day_file.business_date, enqueue=False)


def run_it(session: Session) -> Session:
    return run.run_session(session_id=session.pk, report=lambda line: None)


def emails(kind: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=kind))


def step_outcomes(session: Session) -> list[tuple[str, str]]:
    return list(session.steps.values_list("kind", "outcome"))


def test_successful_run_uploads_the_csv_confirms_it_in_the_log_and_emails_the_result(
    eligible_day, receiver, smtp_server
):
    session = run_it(start(eligible_day))

    assert session.status == Session.Status.SUCCEEDED
    name = expected_csv_name(session)
    assert session.csv_name == name
    assert (session.total, session.records_read) == (3, 3)
    assert session.not_found == ["600000004"] and session.past == ["600000005"]
    assert ProcessedShipment.objects.filter(session=session).count() == 3
    uploaded = receiver.folder / name
    assert [p.name for p in receiver.folder.iterdir()] == [name]  # renamed from its .part name
    rows = list(csv.reader(io.StringIO(uploaded.read_bytes().decode("utf-8"), newline=""), delimiter=";"))
    assert rows[0] == [
        "invoice_number", "customer_code", "customer_name", "address", "postcode", "city", "province",
        "country", "weight_kg", "parcels", "quantity", "value",
    ]  # fmt: skip
    assert rows[1] == [
        "600000001", "C0001", 'Customer; "600000001"', "Via Roma 1\nScala B", "00100", "Roma", "RM", "IT",
        "1.250", "2", "2", "1.50",
    ]  # fmt: skip
    assert [row[0] for row in rows[1:]] == numbers(3)
    assert step_outcomes(session)[-1] == ("notify", "done")

    deliver_outbox()
    [message] = [m for m in smtp_server.messages if m["To"] == "warehouse@example.test"]
    assert "completed" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "600000004" in body  # not in the database at processing time
    assert "Records generated:   3" in body


def test_run_rechecks_known_invoices_that_arrived_after_the_import(eligible_day, receiver):
    KnownInvoice.objects.create(invoice_number="600000004", invoice_date=FUTURE, customer_name="Late")

    session = run_it(start(eligible_day))

    assert session.status == Session.Status.SUCCEEDED
    assert session.total == 4 and session.not_found == []


def test_csv_fields_and_separator_come_from_settings(eligible_day, receiver, settings):
    settings.SESSIONS_CSV_FIELDS = ["invoice_number", "value"]
    settings.SESSIONS_CSV_SEPARATOR = ","
    receiver.active = False  # its parser expects ";"

    session = run_it(start(eligible_day))

    text = (receiver.folder / session.csv_name).read_text()
    assert text.splitlines()[:2] == ["invoice_number,value", "600000001,1.50"]


def assert_failed(session: Session, step: str, reason: str) -> None:
    session.refresh_from_db()
    assert session.status == Session.Status.FAILED
    assert reason in session.failure_reason
    assert (step, "failed") in step_outcomes(session)
    [alert] = emails("sessions_app/alert")
    assert reason in alert.text_body and alert.subject.startswith("ALERT")


def test_invalid_file_fails_the_run_with_an_alert(eligible_day):
    session = start(eligible_day)
    InvoiceFile.objects.filter(pk=eligible_day.pk).update(
        status="rejected", reason="declared 4 records, has 5"
    )

    assert_failed(run_it(session), "generate", "invalid file")


def test_nothing_to_generate_fails_the_run_with_an_alert(known_invoices, import_day_file):
    known_invoices(past=["600000001"])
    session = start(import_day_file(["600000001", "600000002"]))

    assert_failed(run_it(session), "generate", "nothing to generate")
    assert ProcessedShipment.objects.count() == 0


def test_ftp_upload_failure_fails_the_run_with_an_alert(eligible_day, settings):
    settings.SESSIONS_FTP_URL = "ftp://nobody:nothing@127.0.0.1:9/outgoing"

    session = run_it(start(eligible_day))

    assert_failed(session, "upload", "FTP upload")
    assert session.generated_at is not None and session.uploaded_at is None


def test_wrong_ftp_credentials_fail_the_upload(eligible_day, settings, outbound_ftp):
    settings.SESSIONS_FTP_URL = outbound_ftp.url.replace(outbound_ftp.password, "wrong")

    assert_failed(run_it(start(eligible_day)), "upload", "530")


def test_log_reporting_fewer_records_fails_the_run_with_an_alert(eligible_day, receiver):
    receiver.missing = 1

    session = run_it(start(eligible_day))

    assert_failed(session, "log_check", "read 2 of the 3 records")
    assert session.records_read == 2


def test_no_log_line_before_the_timeout_fails_the_run_with_an_alert(eligible_day, receiver, settings):
    receiver.active = False
    settings.SESSIONS_LOG_TIMEOUT = 0.3

    assert_failed(run_it(start(eligible_day)), "log_check", "timeout")


def test_unreachable_log_server_ends_in_timeout_naming_the_error(eligible_day, outbound_ftp, settings):
    settings.SESSIONS_LOG_FS_URL = "ssh://nobody@127.0.0.1:9/log?timeout=1"
    settings.SESSIONS_LOG_TIMEOUT = 0.3

    session = run_it(start(eligible_day))

    assert_failed(session, "log_check", "timeout")
    assert "last error" in session.failure_reason


def test_resume_after_timeout_does_not_upload_again(eligible_day, receiver, settings):
    receiver.active = False
    settings.SESSIONS_LOG_TIMEOUT = 0.3
    session = run_it(start(eligible_day))
    assert session.status == Session.Status.FAILED
    (receiver.folder / session.csv_name).unlink()  # a second upload would bring it back
    receiver.confirm(session.csv_name, 3)

    session = run_it(session)

    assert session.status == Session.Status.SUCCEEDED
    assert not (receiver.folder / session.csv_name).exists()
    assert ("upload", "skipped") in step_outcomes(session)
    assert ("generate", "skipped") in step_outcomes(session)
    assert ProcessedShipment.objects.filter(session=session).count() == 3


def test_resume_after_upload_failure_uploads_the_same_csv(eligible_day, settings, outbound_ftp, receiver):
    settings.SESSIONS_FTP_URL = "ftp://nobody:nothing@127.0.0.1:9/outgoing"
    session = run_it(start(eligible_day))
    assert session.status == Session.Status.FAILED
    first_csv = session.csv_path

    settings.SESSIONS_FTP_URL = outbound_ftp.url
    session = run_it(session)

    assert session.status == Session.Status.SUCCEEDED
    assert session.csv_path == first_csv
    assert [p.name for p in outbound_ftp.folder.iterdir()] == [session.csv_name]


def test_worker_dying_between_upload_and_recording_it_does_not_upload_again(eligible_day, receiver):
    session = start(eligible_day)
    session = run_it(session)
    assert session.status == Session.Status.SUCCEEDED
    # Simulate the crash: the upload happened and the receiver logged it, the DB does not know.
    Session.objects.filter(pk=session.pk).update(
        status="failed", failure_reason="worker lost", uploaded_at=None
    )
    (receiver.folder / session.csv_name).unlink()

    session = run_it(session)

    assert session.status == Session.Status.SUCCEEDED
    assert not (receiver.folder / session.csv_name).exists()
    assert SessionStep.objects.filter(
        session=session, kind="upload", message__contains="not uploaded again"
    ).exists()


def test_a_succeeded_or_closed_session_cannot_run_again(eligible_day, receiver):
    session = run_it(start(eligible_day))
    with pytest.raises(services.NotRunnable, match="already completed"):
        run_it(session)
    services.close_session(day=session.day)
    with pytest.raises(services.NotRunnable, match="closed"):
        run_it(session)


def test_a_session_running_on_a_live_worker_is_not_taken_over(eligible_day):
    session = start(eligible_day)
    services.claim_run(session_id=session.pk)

    with pytest.raises(services.NotRunnable, match="another worker"):
        run_it(session)


def test_force_close_stops_a_running_session_at_its_next_batch(eligible_day):
    session, token = services.claim_run(session_id=start(eligible_day).pk)
    services.close_session(day=session.day, force=True)

    with pytest.raises(services.LeaseLost):
        services.record_batch(session=session, token=token, first_position=1, rows=[])
    session.refresh_from_db()
    assert session.force_closed and session.status == Session.Status.FAILED
    assert not services.fail_run(session=session, token=token, step="run", reason="late")
    assert emails("sessions_app/alert") == []


def test_alert_email_reaches_smtp_with_the_reason(eligible_day, smtp_server):
    run_it(start(eligible_day))  # the FTP server is unreachable

    deliver_outbox()

    [alert] = [m for m in smtp_server.messages if m["To"] == "warehouse@example.test"]
    assert alert["Subject"].startswith(
        f"ALERT: shipping session {eligible_day.business_date} failed: FTP upload"
    )
    assert "run_session --date" in alert.get_body(("plain",)).get_content()
    assert "FTP upload" in alert.get_body(("html",)).get_content()


def test_log_pattern_without_the_named_groups_fails_the_run(eligible_day, outbound_ftp, settings):
    settings.SESSIONS_LOG_PATTERN = r"READ (\S+) records=(\d+)"

    assert_failed(run_it(start(eligible_day)), "log_check", "lacks the named group")


def test_redelivered_task_for_a_finished_session_is_a_no_op(eligible_day, receiver):
    from sessions_app import tasks

    session = run_it(start(eligible_day))

    assert tasks.run_session(session.pk).startswith("skipped: ")
    assert SessionStep.objects.filter(session=session, kind="upload", outcome="done").count() == 1


def test_unknown_csv_field_in_settings_fails_the_run(eligible_day, settings):
    settings.SESSIONS_CSV_FIELDS = ["invoice_number", "colour"]

    assert_failed(run_it(start(eligible_day)), "generate", "unknown or no fields: colour")
