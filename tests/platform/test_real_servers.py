"""One end-to-end check per real-server fixture, proving the harness itself works."""

import ftplib
import io

import fs
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from project.mail import deliver_outbox, queue_email
from project.models import OutboundEmail


def test_ftp_server_accepts_upload_and_download(inbound_ftp):
    with ftplib.FTP() as ftp:
        ftp.connect("127.0.0.1", inbound_ftp.port, timeout=5)
        ftp.login(inbound_ftp.user, inbound_ftp.password)
        ftp.cwd("incoming")
        ftp.storbinary("STOR hello.txt", io.BytesIO(b"hello"))
        assert ftp.nlst() == ["hello.txt"]
    assert (inbound_ftp.folder / "hello.txt").read_bytes() == b"hello"


def test_two_ftp_servers_run_side_by_side(inbound_ftp, outbound_ftp):
    assert inbound_ftp.port != outbound_ftp.port
    assert inbound_ftp.folder != outbound_ftp.folder


@pytest.mark.django_db(transaction=True)
def test_smtp_server_receives_queued_email(smtp_server):
    queue_email(template="platform/test", context={"name": "Ada"}, to=["ops@example.test"])
    deliver_outbox()
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT
    [message] = smtp_server.messages
    assert message["Subject"] == "Test message for Ada"
    assert message["To"] == "ops@example.test"
    assert "<strong>Ada</strong>" in message.get_body(("html",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_email_survives_smtp_outage_and_is_sent_later(settings, smtp_server):
    settings.EMAIL_PORT = smtp_server.port + 1 if smtp_server.port < 65535 else 1  # nobody listens
    queue_email(template="platform/test", context={"name": "Bob"}, to=["ops@example.test"])
    email = OutboundEmail.objects.get()
    assert email.status == OutboundEmail.Status.PENDING
    assert email.attempts == 1 and email.last_error

    settings.EMAIL_PORT = smtp_server.port
    assert deliver_outbox() == 1
    assert len(smtp_server.messages) == 1


def test_s3_storage_round_trip_through_django_storages(s3_storage, s3_server):
    name = default_storage.save("reports/hello.txt", ContentFile(b"hello s3"))
    with default_storage.open(name) as handle:
        assert handle.read() == b"hello s3"
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_storage)["Contents"]]
    assert keys == ["reports/hello.txt"]


def test_ssh_server_serves_files_to_fs_sshfs(ssh_server):
    (ssh_server.home / "upload.log").write_text("READ file.csv records=3\n")
    with fs.open_fs(ssh_server.fs_url()) as remote:
        assert remote.readtext("upload.log") == "READ file.csv records=3\n"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_logs_in_on_live_server(page, make_user, artifacts_dir):
    make_user("alice", groups=["operators"])
    page.goto("/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator("main >> text=Shipping sessions").is_visible()
    page.screenshot(path=str(artifacts_dir / "home.png"))
