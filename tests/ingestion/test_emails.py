"""Summary and alert emails through the outbox and a real SMTP server."""

import pytest
from django.core.files.storage import default_storage
from django.utils import translation

from ingestion.models import InvoiceFile, InvoiceLine
from ingestion.services import ingest_bytes
from project.mail import deliver_outbox
from project.models import OutboundEmail
from tests.ingestion.conftest import content, file_name
from tests.servers import free_port

pytestmark = pytest.mark.django_db

DATA = content("600000001|2|Toys|12.50", "600000002|1|Books|3.00", "600000003|1|Books|3.00", "6000|1|x|1")


def bodies(message) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_summary_email_lists_not_found_and_past_invoices_with_counts(
    smtp_server, settings, known_invoices, django_capture_on_commit_callbacks
):
    settings.INGESTION_SUMMARY_RECIPIENTS = ["ops@example.test", "boss@example.test"]
    known_invoices(found=["600000001"], past=["600000002"])
    with django_capture_on_commit_callbacks(execute=True):
        ingest_bytes(name=file_name(4), content=DATA, source="manual")

    [message] = smtp_server.messages
    assert message["To"] == "ops@example.test, boss@example.test"
    assert file_name(4) in message["Subject"]
    text, html = bodies(message)
    for body in (text, html):
        assert "600000003" in body  # not found
        assert "600000002" in body  # in the past
        assert "600000001" not in body
        assert "line 4" in body
    assert "Not found:           1" in text


def test_rejected_file_is_archived_with_its_reason_and_alerts(
    smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.INGESTION_ALERT_RECIPIENTS = ["alerts@example.test"]
    name = file_name(7)
    with django_capture_on_commit_callbacks(execute=True):
        report = ingest_bytes(name=name, content=DATA, source="ftp")

    assert report.status == "rejected"
    invoice_file = InvoiceFile.objects.get()
    assert invoice_file.status == InvoiceFile.Status.REJECTED
    assert invoice_file.reason == "the file has 4 records but its name declares 6, so 7 were expected (N + 1)"
    assert (invoice_file.declared_records, invoice_file.records) == (7, 4)
    assert InvoiceLine.objects.count() == 0
    with default_storage.open(invoice_file.archive_path) as handle:
        assert handle.read() == DATA
    [message] = smtp_server.messages
    assert message["To"] == "alerts@example.test"
    assert "rejected" in message["Subject"]
    assert invoice_file.reason in bodies(message)[0]


def test_smtp_down_still_commits_the_import_and_the_outbox_delivers_later(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with django_capture_on_commit_callbacks(execute=True):
        report = ingest_bytes(name=file_name(4), content=DATA, source="ftp")

    assert report.status == "imported"
    assert InvoiceLine.objects.count() == 3
    email = OutboundEmail.objects.get(kind="ingestion/summary")
    assert email.status == OutboundEmail.Status.PENDING and email.last_error

    from tests.servers.smtp import SmtpServer

    server = SmtpServer()
    try:
        settings.EMAIL_PORT = server.port
        assert deliver_outbox() == 1
        assert len(server.messages) == 1
    finally:
        server.close()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT


def test_a_rejection_reason_is_stored_as_a_code_and_read_in_italian():
    invoice_file = ingest_bytes(name=file_name(7), content=DATA, source="ftp").file
    assert (invoice_file.reason_code, invoice_file.reason_params) == (
        "record_count",
        {"records": 4, "declared": 6, "expected": 7},
    )
    with translation.override("it"):
        assert invoice_file.reason_text == (
            "il file ha 4 record ma il suo nome ne dichiara 6, quindi ne erano attesi 7 (N + 1)"
        )
        assert InvoiceFile.objects.get().reason_text == invoice_file.reason_text
