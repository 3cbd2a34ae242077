"""Management commands: ingest_file (--json, exit codes), poll_ftp, reprocess_file."""

import json
import os
import subprocess
import sys
import threading
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from ingestion.models import FtpPoll, InvoiceFile, KnownInvoice, NoFileAlert
from project.models import OutboundEmail
from tests.ingestion.conftest import content, file_name
from tests.servers import free_port
from tests.servers.ftp import FtpServer
from tests.servers.postgres import database_url_of

pytestmark = pytest.mark.django_db

GOOD = content("600000001|2|Toys, Books|12.50", "500000002|1|other|1.00", "600000003|x|Books|3.00")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_ingest_file_json_prints_exactly_one_object_with_the_report(tmp_path, known_invoices):
    known_invoices(past=["600000001"])
    path = write(tmp_path, file_name(3), GOOD)

    data = json.loads(run("ingest_file", str(path), "--json"))

    assert data == {
        "file": path.name,
        "status": "imported",
        "declared_records": 3,
        "records": 3,
        "imported": 1,
        "ignored": 1,
        "invalid": [
            {
                "line": 3,
                "reason": "quantity 'x' is not an integer",
                "code": "quantity_not_integer",
                "params": {"value": "'x'"},
            }
        ],
        "not_found": [],
        "past": ["600000001"],
        "categories": ["books", "toys"],
    }
    assert InvoiceFile.objects.get().source == "manual"


def test_ingest_file_prints_a_progress_line_every_step(tmp_path, settings):
    settings.INGESTION_PROGRESS_EVERY = 1
    path = write(tmp_path, file_name(3), GOOD)
    output = run("ingest_file", str(path))
    # Line 1 is the only valid row (2 is ignored, 3 invalid); the last step is the whole file.
    assert f"{path.name}: 1/3 records processed\n{path.name}: 3/3 records processed\n" in output
    assert f"{path.name}: imported" in output


def test_ingest_file_json_keeps_stdout_one_object_and_prints_progress_to_stderr(tmp_path, settings):
    settings.INGESTION_PROGRESS_EVERY = 1
    path = write(tmp_path, file_name(3), GOOD)
    out, err = StringIO(), StringIO()
    call_command("ingest_file", str(path), "--json", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["status"] == "imported"
    assert err.getvalue() == f"{path.name}: 1/3 records processed\n{path.name}: 3/3 records processed\n"


def test_ingest_file_twice_reports_duplicate_and_exits_zero(tmp_path):
    path = write(tmp_path, file_name(3), GOOD)
    run("ingest_file", str(path), "--source", "ftp")
    data = json.loads(run("ingest_file", str(path), "--json"))
    assert data["status"] == "duplicate" and data["imported"] == 0
    assert InvoiceFile.objects.get().source == "ftp"


def test_ingest_file_rejected_exits_non_zero_and_keeps_the_file(tmp_path):
    path = write(tmp_path, file_name(5), GOOD)
    out = StringIO()
    with pytest.raises(CommandError, match="rejected") as error:
        call_command("ingest_file", str(path), "--json", stdout=out)
    assert error.value.returncode != 0
    data = json.loads(out.getvalue())
    assert data["status"] == "rejected"
    assert (data["declared_records"], data["records"], data["imported"]) == (5, 3, 0)
    assert InvoiceFile.objects.get().status == InvoiceFile.Status.REJECTED


def test_ingest_file_with_a_bad_name_is_a_clear_error(tmp_path):
    path = write(tmp_path, "invoices.txt", GOOD)
    with pytest.raises(CommandError, match="Letture<YYYYMMDDHHMMSSmmm>_<N>"):
        run("ingest_file", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        run("ingest_file", str(tmp_path / "missing.txt"))


@pytest.mark.django_db(transaction=True)
def test_ingest_file_runs_as_a_process_with_exit_codes(tmp_path):
    """The real command line: one JSON object on stdout, exit status 0 / non-zero."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of(),
        "VAR_DIR": str(tmp_path / "var"),
    }
    good = write(tmp_path, file_name(3, at="235959998"), GOOD)
    bad = write(tmp_path, file_name(9, at="235959999"), GOOD.replace(b"Toys", b"Games"))
    manage = [sys.executable, str(django_settings.BASE_DIR / "manage.py"), "ingest_file", "--json"]
    ok = subprocess.run([*manage, str(good)], env=env, capture_output=True, text=True, timeout=60)
    rejected = subprocess.run([*manage, str(bad)], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "imported"
    assert rejected.returncode != 0
    assert json.loads(rejected.stdout)["status"] == "rejected"


def test_poll_ftp_runs_one_tick_and_prints_progress(inbound_ftp):
    (inbound_ftp.folder / file_name(3)).write_bytes(GOOD)
    output = run("poll_ftp")
    assert "polling the inbound FTP server" in output
    assert f"{file_name(3)}: imported" in output
    assert f"{file_name(3)}: 3/3 records processed" in output


def test_poll_ftp_wait_lets_a_starting_server_come_up_instead_of_recording_an_outage(tmp_path, settings):
    """`make run` starts the demo FTP server and `poll_ftp --wait` side by side: late in the day, a
    first tick before the server listens would record a failed poll and send the no-file alert."""
    port = free_port()
    settings.INGESTION_FTP_URL = f"ftp://{FtpServer.user}:{FtpServer.password}@127.0.0.1:{port}/incoming"
    settings.INGESTION_NO_FILE_ALERT_AFTER = "00:00"
    (tmp_path / "ftp" / "incoming").mkdir(parents=True)
    (tmp_path / "ftp" / "incoming" / file_name(3)).write_bytes(GOOD)
    servers: list[FtpServer] = []
    starter = threading.Timer(1.0, lambda: servers.append(FtpServer(tmp_path / "ftp", "incoming", port=port)))
    starter.start()
    try:
        output = run("poll_ftp", "--wait", "15")
    finally:
        starter.join()
        for server in servers:
            server.close()

    assert f"{file_name(3)}: imported" in output
    assert list(FtpPoll.objects.values_list("succeeded", flat=True)) == [True]
    assert not NoFileAlert.objects.exists()


def test_reprocess_file_reruns_the_lookup_and_the_email(tmp_path):
    path = write(tmp_path, file_name(3), GOOD)
    run("ingest_file", str(path))
    invoice_file = InvoiceFile.objects.get()
    assert invoice_file.not_found_count == 1
    KnownInvoice.objects.create(invoice_number="600000001", invoice_date="2099-12-31")

    output = run("reprocess_file", invoice_file.name)

    invoice_file.refresh_from_db()
    assert (invoice_file.found_count, invoice_file.not_found_count) == (1, 0)
    assert invoice_file.lines.get().lookup_status == "found"
    assert "summary email queued" in output
    assert "1 found" in run("reprocess_file", str(invoice_file.pk))
    assert OutboundEmail.objects.filter(kind="ingestion/summary").count() == 3


def test_reprocess_unknown_or_rejected_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no invoice file"):
        run("reprocess_file", "nothing.txt")
    path = write(tmp_path, file_name(7), GOOD)
    with pytest.raises(CommandError):
        run("ingest_file", str(path))
    with pytest.raises(CommandError, match="rejected"):
        run("reprocess_file", path.name)
