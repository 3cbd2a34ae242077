"""The FTP poller against a real FTP server: pick today's files, never lose one, alert once."""

import logging
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from pyftpdlib.handlers import DTPHandler

from ingestion import tasks
from ingestion.models import FtpPoll, InvoiceFile, InvoiceLine, NoFileAlert
from ingestion.polling import poll_inbound
from project.models import OutboundEmail
from tests.ingestion.conftest import content, file_name, local_datetime
from tests.servers import free_port

pytestmark = pytest.mark.django_db

TODAY_CONTENT = content("600000001|2|Toys|12.50", "500000002|1|other|1.00", "600000003|1|Books|3.00")


def drop(server, name: str, data: bytes = TODAY_CONTENT) -> None:
    (server.folder / name).write_bytes(data)


def remote_names(server) -> list[str]:
    return sorted(path.name for path in server.folder.iterdir())


def archived(invoice_file: InvoiceFile) -> bytes:
    with default_storage.open(invoice_file.archive_path) as handle:
        return handle.read()


def test_poll_imports_todays_file_and_leaves_other_files_alone(inbound_ftp, caplog):
    today_name = file_name(3)
    tomorrow_name = file_name(3, day=timezone.localdate() + timedelta(days=1))
    drop(inbound_ftp, today_name)
    drop(inbound_ftp, tomorrow_name)
    drop(inbound_ftp, "readme.txt", b"hello")

    with caplog.at_level(logging.INFO, logger="ingestion"):
        result = poll_inbound()

    assert result.processed == {today_name: "imported"}
    assert sorted(result.skipped) == sorted([tomorrow_name, "readme.txt"])
    assert remote_names(inbound_ftp) == sorted([tomorrow_name, "readme.txt"])
    invoice_file = InvoiceFile.objects.get()
    assert invoice_file.name == today_name and invoice_file.source == InvoiceFile.Source.FTP
    assert invoice_file.archive_path == f"ingestion/archive/{timezone.localdate():%Y-%m-%d}/{today_name}"
    assert archived(invoice_file) == TODAY_CONTENT
    assert InvoiceLine.objects.filter(file=invoice_file).count() == 2
    assert "leaving readme.txt alone" in caplog.text


def test_crash_between_archive_and_delete_is_resumed_without_duplicates(inbound_ftp):
    name = file_name(3)
    drop(inbound_ftp, name)
    authorizer = inbound_ftp.server.handler.authorizer
    # The server refuses DELETE, as if the poller had died right after recording the file.
    authorizer.override_perm(inbound_ftp.user, str(inbound_ftp.folder), "elrawMT")

    first = poll_inbound()

    assert first.failed == [name]
    assert remote_names(inbound_ftp) == [name]
    invoice_file = InvoiceFile.objects.get()
    assert archived(invoice_file) == TODAY_CONTENT

    authorizer.override_perm(inbound_ftp.user, str(inbound_ftp.folder), "elradfmwMT")
    second = poll_inbound()

    assert second.processed == {name: "duplicate"}
    assert remote_names(inbound_ftp) == []
    assert InvoiceFile.objects.count() == 1
    assert InvoiceLine.objects.count() == 2
    assert OutboundEmail.objects.filter(kind="ingestion/summary").count() == 1


def test_same_name_with_different_content_is_left_on_the_server(inbound_ftp):
    name = file_name(3)
    drop(inbound_ftp, name)
    poll_inbound()
    drop(inbound_ftp, name, content("600000009|1|Toys|1.00", "600000008|1|Toys|1.00", "600000007|1|x|1"))

    result = poll_inbound()

    assert result.processed == {name: "conflict"}
    assert remote_names(inbound_ftp) == [name]
    assert InvoiceFile.objects.count() == 1


def test_ftp_server_down_is_logged_and_the_next_tick_retries(inbound_ftp, settings, caplog):
    drop(inbound_ftp, file_name(3))
    real_url = settings.INGESTION_FTP_URL
    settings.INGESTION_FTP_URL = f"ftp://tester:secret-pw@127.0.0.1:{free_port()}/incoming"
    settings.INGESTION_FTP_TIMEOUT = 2

    with caplog.at_level(logging.ERROR, logger="ingestion"):
        summary = tasks.poll_ftp()

    assert "server error" in summary
    assert "unavailable" in caplog.text
    assert InvoiceFile.objects.count() == 0

    settings.INGESTION_FTP_URL = real_url
    tasks.poll_ftp()
    assert InvoiceFile.objects.count() == 1
    assert remote_names(inbound_ftp) == []


def test_task_never_raises_even_on_unexpected_errors(inbound_ftp, settings):
    settings.INGESTION_FTP_URL = "http://not-an-ftp-url"
    assert tasks.poll_ftp() == "failed"


class _DroppingDTPHandler(DTPHandler):
    """Sends the first 10 bytes of a download and then closes the data connection."""

    def use_sendfile(self):
        return False

    def push_with_producer(self, producer):
        self.push(producer.more()[:10])
        self.close_when_done()


def test_connection_dropped_mid_download_archives_nothing_and_keeps_the_remote(inbound_ftp):
    name = file_name(3)
    drop(inbound_ftp, name)
    inbound_ftp.server.handler.dtp_handler = _DroppingDTPHandler

    result = poll_inbound()

    assert result.failed == [name]
    assert remote_names(inbound_ftp) == [name]
    assert InvoiceFile.objects.count() == 0
    assert not default_storage.exists(f"ingestion/archive/{timezone.localdate():%Y-%m-%d}/{name}")

    inbound_ftp.server.handler.dtp_handler = DTPHandler
    assert poll_inbound().processed == {name: "imported"}


def test_no_file_alert_is_sent_once_after_19(inbound_ftp, smtp_server, django_capture_on_commit_callbacks):
    day = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        before = poll_inbound(now=local_datetime(day.year, day.month, day.day, 18, 30))
        at_seven = poll_inbound(now=local_datetime(day.year, day.month, day.day, 19, 0))
        later = poll_inbound(now=local_datetime(day.year, day.month, day.day, 19, 30))
        last = poll_inbound(now=local_datetime(day.year, day.month, day.day, 20, 0))

    assert [before.alert_sent, at_seven.alert_sent, later.alert_sent, last.alert_sent] == [
        False,
        True,
        False,
        False,
    ]
    assert NoFileAlert.objects.filter(day=day).count() == 1
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert f"no invoice file received for {day:%Y-%m-%d}" in message["Subject"]
    assert message["To"] == "warehouse@localhost"


def test_no_alert_when_todays_file_has_arrived(inbound_ftp):
    drop(inbound_ftp, file_name(3))
    day = timezone.localdate()
    result = poll_inbound(now=local_datetime(day.year, day.month, day.day, 19, 30))
    assert result.processed and not result.alert_sent
    assert NoFileAlert.objects.count() == 0


def test_archive_goes_to_the_configured_storage(inbound_ftp, s3_storage, s3_server):
    name = file_name(3)
    drop(inbound_ftp, name)
    poll_inbound()
    key = f"ingestion/archive/{timezone.localdate():%Y-%m-%d}/{name}"
    body = s3_server.client().get_object(Bucket=s3_storage, Key=key)["Body"].read()
    assert body == TODAY_CONTENT


def test_explicit_ftps_server_is_polled_over_tls(inbound_ftps):
    name = file_name(3)
    (inbound_ftps.folder / name).write_bytes(TODAY_CONTENT)

    assert poll_inbound().processed == {name: "imported"}
    assert not (inbound_ftps.folder / name).exists()


def test_ftps_certificate_is_verified(inbound_ftps, settings, caplog):
    (inbound_ftps.folder / file_name(3)).write_bytes(TODAY_CONTENT)
    settings.INGESTION_FTP_URL = inbound_ftps.url(trust=False)

    with caplog.at_level(logging.ERROR, logger="ingestion"):
        result = poll_inbound()

    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert InvoiceFile.objects.count() == 0


def test_the_poll_summary_is_english_in_the_log_and_in_the_readers_language_on_the_status(
    inbound_ftp, client, make_user
):
    today_name = file_name(3)
    drop(inbound_ftp, today_name)
    drop(inbound_ftp, "readme.txt", b"hello")

    assert poll_inbound().summary() == f"{today_name}: imported; 1 other file left alone"
    poll = FtpPoll.objects.get()
    assert poll.summary == f"{today_name}: imported; 1 other file left alone"
    assert poll.details == {"files": {today_name: "imported"}, "skipped": 1, "error": "", "alert_sent": False}
    client.force_login(make_user("olga", groups=["operators"]))
    status = client.get("/sessions/status/", HTTP_ACCEPT_LANGUAGE="it").json()
    assert status["ftp"]["last_summary"] == f"{today_name}: importato; 1 altro file non toccato"
    FtpPoll.objects.update(details={}, summary="a poll recorded before its details")
    status = client.get("/sessions/status/", HTTP_ACCEPT_LANGUAGE="it").json()
    assert status["ftp"]["last_summary"] == "a poll recorded before its details"
