"""What the /sessions/ page says: the day's state, the FTP checks, upload figures, past sessions."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ingestion import services as ingestion_services
from ingestion.models import FtpPoll
from sessions_app.models import Session, SessionStep
from tests.sessions_app.conftest import invoice_file_name, numbers

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({"status": "succeeded"}, "Session completed for {day} - waiting to close"),
        (
            {"status": "failed", "failure_reason": "FTP upload failed"},
            "Session failed for {day}: FTP upload failed",
        ),
        ({"status": "succeeded", "closed_at": timezone.now()}, "Session closed for {day} - completed"),
        (
            {
                "status": "failed",
                "failure_reason": "timeout",
                "closed_at": timezone.now(),
                "force_closed": True,
            },
            "Session closed for {day} - failed (timeout)",
        ),
    ],
)
def test_the_heading_says_the_state_of_the_day(operator_client, eligible_day, values, line):
    Session.objects.create(day=timezone.localdate(), invoice_file=eligible_day, total=3, **values)
    data = operator_client.get("/sessions/status/").json()
    assert data["status_line"].startswith(line.format(day=timezone.localdate().isoformat()))
    assert len(data["updated_at"]) == 8  # hh:mm:ss
    assert "updated at" in operator_client.get("/sessions/").content.decode()


def test_the_log_shows_human_step_labels_with_date_and_time(operator_client, eligible_day):
    session = Session.objects.create(day=timezone.localdate(), invoice_file=eligible_day)
    SessionStep.objects.create(session=session, kind="log_check", outcome="failed", message="timeout")

    [step] = operator_client.get("/sessions/status/").json()["steps"]

    assert (step["label"], step["outcome"], step["failed"]) == ("Receiver's log check", "failed", True)
    assert step["when"] == f"{timezone.localtime(step_time(session)):%Y-%m-%d %H:%M:%S}"
    assert "Receiver&#x27;s log check" in operator_client.get("/sessions/").content.decode()


def step_time(session):
    return session.steps.get().created_at


def test_the_page_shows_the_last_and_next_ftp_check(operator_client):
    from django_q.models import Schedule

    checked = timezone.now() - timedelta(minutes=5)
    FtpPoll.objects.create(started_at=checked, finished_at=checked, succeeded=True, summary="")
    Schedule.objects.create(
        name="backoffice:ingestion-poll-ftp",
        func="ingestion.tasks.poll_ftp",
        schedule_type=Schedule.CRON,
        cron="*/30 8-19 * * 1-5",
        next_run=timezone.now() + timedelta(hours=1),
    )

    html = operator_client.get("/sessions/").content.decode()
    ftp = operator_client.get("/sessions/status/").json()["ftp"]

    assert f"Inbound FTP last checked at {timezone.localtime(checked):%Y-%m-%d %H:%M:%S}." in html
    assert "Next scheduled check:" in html
    assert ftp["last_succeeded"] is True and ftp["next_is_overdue"] is False


def test_check_ftp_now_polls_the_inbound_server(operator_client, inbound_ftp, known_invoices):
    known_invoices(found=numbers(2))
    name = invoice_file_name(2)
    (inbound_ftp.folder / name).write_bytes(b"600000001|1|x|1.00\n600000002|1|x|2.00")

    response = operator_client.post("/sessions/poll-ftp/", follow=True)  # tasks run inline in tests

    assert "being checked now" in messages_of(response)[0]
    assert FtpPoll.objects.get().succeeded
    data = operator_client.get("/sessions/status/").json()
    assert data["file"] == name and data["buttons"]["start"]["enabled"]
    assert operator_client.get("/sessions/poll-ftp/").status_code == 405


def test_upload_message_says_each_figure_once_with_plurals(operator_client, known_invoices):
    known_invoices(found=["600000001"], past=["600000002"])
    content = (
        b"600000001|1|x|1.00\n600000002|1|x|1.00\n600000003|1|x|1.00\n500000004|1|x|1.00\n600000005|x|x|1.00"
    )
    name = invoice_file_name(5)

    response = operator_client.post(
        "/sessions/upload/", {"file": SimpleUploadedFile(name, content)}, follow=True
    )

    assert messages_of(response) == [
        f"{name}: 5 records, 3 imported, 1 ignored, 1 invalid, 1 invoice not found, 1 invoice in the past."
        f" The session for {timezone.localdate().isoformat()} can be started."
    ]


def test_upload_of_the_same_bytes_under_a_new_name_names_the_original(operator_client):
    content = b"600000001|1|x|1.00"
    operator_client.post(
        "/sessions/upload/", {"file": SimpleUploadedFile(invoice_file_name(1), content)}, follow=True
    )
    copy = invoice_file_name(1, at="120000000")

    response = operator_client.post(
        "/sessions/upload/", {"file": SimpleUploadedFile(copy, content)}, follow=True
    )

    assert messages_of(response) == [
        f"{copy} has the same content as {invoice_file_name(1)}: recorded as a duplicate, nothing imported."
    ]


def test_past_sessions_list_results_csv_downloads_and_invoices_not_found(operator_client, import_day_file):
    yesterday = timezone.localdate() - timedelta(days=1)
    invoice_file = import_day_file(numbers(2), day=yesterday)
    path = default_storage.save("sessions/x/shipments_1.csv", ContentFile(b"invoice_number\n600000001\n"))
    session = Session.objects.create(
        day=yesterday,
        invoice_file=invoice_file,
        status="succeeded",
        total=1,
        records_read=1,
        csv_name="shipments_1.csv",
        csv_path=path,
        generated_at=timezone.now(),
        uploaded_at=timezone.now(),
        not_found=["600000002"],
        closed_at=timezone.now(),
    )

    html = operator_client.get("/sessions/").content.decode()
    download = operator_client.get(f"/sessions/{session.pk}/csv/")

    assert f"{yesterday:%Y-%m-%d}" in html and "completed" in html
    assert f'href="/sessions/{session.pk}/csv/"' in html
    assert "1 invoice</summary>" in html and "<li>600000002</li>" in html
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"invoice_number\n600000001\n"
    assert 'filename="shipments_1.csv"' in download["Content-Disposition"]
    assert operator_client.get("/sessions/999999/csv/").status_code == 404


def test_closing_the_session_closes_the_day_for_ingestion(operator_client, eligible_day):
    Session.objects.create(day=timezone.localdate(), invoice_file=eligible_day, status="succeeded")
    operator_client.post("/sessions/close/")

    report = ingestion_services.ingest_bytes(
        name=invoice_file_name(1, at="180000000"), content=b"600000099|1|x|1.00", source="ftp"
    )

    assert report.status == "closed_day"
