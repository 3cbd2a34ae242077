"""The README's `make run` path on embedded defaults: the embedded PostgreSQL server in var/pg/,
local files, mails to files."""

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from project import embedded_db
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def demo_env(open_tmp_path) -> Iterator[dict]:
    """As `make run` with nothing configured: no DATABASE_URL, so the embedded server in VAR_DIR/pg."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "AWS_", "EMAIL_"))}
    env["VAR_DIR"] = str(open_tmp_path / "var")
    embedded_db.start(open_tmp_path / "var" / "pg", options=embedded_db.THROWAWAY_OPTIONS)
    yield env
    embedded_db.reset(open_tmp_path / "var" / "pg")


def test_demo_setup_runs_on_the_embedded_server(demo_env, open_tmp_path):
    run_manage("migrate", "--noinput", env=demo_env)
    output = run_manage("demo_setup", env=demo_env)
    assert "demo user: admin" in output and "demo user: operator" in output
    assert (open_tmp_path / "var" / "pg" / "PG_VERSION").exists()
    run_manage("setup_schedules", env=demo_env)
    assert "schedules up to date" in run_manage("setup_schedules", env=demo_env)
    run_manage("check", env=demo_env)


def test_demo_day_runs_end_to_end_on_the_demo_ftp_server(demo_env, open_tmp_path):
    """Demo FTP → poll_ftp imports today's sample → run_session uploads and is confirmed by the log."""
    port = free_port()
    demo_env.update(
        INGESTION_FTP_URL=f"ftp://demo:demo@127.0.0.1:{port}/inbound",
        SESSIONS_FTP_URL=f"ftp://demo:demo@127.0.0.1:{port}/outbound",
        SESSIONS_LOG_POLL_INTERVAL="1",
        SESSIONS_LOG_TIMEOUT="30",
    )
    run_manage("migrate", "--noinput", env=demo_env)
    run_manage("demo_setup", env=demo_env)
    ftp = subprocess.Popen(
        [sys.executable, "manage.py", "demo_ftp", "--port", str(port)],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # As `make run`: one poll at start, waiting for the demo FTP server to listen.
        assert "imported" in run_manage("poll_ftp", "--wait", "15", env=demo_env)
        output = run_manage("run_session", env=demo_env)
        assert "processed out of" in output
        run_manage("deliver_outbox", env=demo_env)  # the cluster does this in `make run`
        assert list((open_tmp_path / "var" / "mail").iterdir()), "the demo writes its emails to var/mail/"
    finally:
        ftp.terminate()
        ftp.wait(timeout=10)


@pytest.mark.django_db
def test_the_shipped_sample_is_a_valid_invoice_file_that_imports():
    from ingestion.services import ingest_bytes

    [sample] = (ROOT / "fixtures" / "demo").glob("Letture*_*.txt")
    report = ingest_bytes(name=sample.name, content=sample.read_bytes(), source="manual")
    assert report.status == "imported" and report.records == report.declared_records


@pytest.mark.django_db
def test_demo_setup_runs_a_few_past_days_through_real_sessions(settings, tmp_path, client, make_user):
    """ "Past sessions" has something to show: each earlier day's sample went through generation, the
    upload to the demo FTP server, its receiver's log line and closing, once however often it runs."""
    from django.core.management import call_command
    from django.utils import timezone

    from project.management.commands.demo_setup import PAST_DAYS
    from sessions_app.models import Session

    settings.VAR_DIR = tmp_path / "var"
    settings.SESSIONS_LOG_FS_URL = f"osfs://{tmp_path / 'var' / 'remote-log'}"
    settings.SESSIONS_LOG_POLL_INTERVAL = 0.05
    settings.SESSIONS_LOG_TIMEOUT = 10
    call_command("demo_setup", stdout=io.StringIO())
    call_command("demo_setup", stdout=io.StringIO())

    today = timezone.localdate()
    past = Session.objects.filter(day__lt=today).order_by("day")
    assert [s.day for s in past] == [today - timedelta(days=n) for n in range(PAST_DAYS, 0, -1)]
    for session in past:
        assert session.status == "succeeded" and session.closed_at is not None and not session.force_closed
        assert session.records_read == session.total > 0
        sent = tmp_path / "var" / "ftp" / "outbound" / session.csv_name
        assert sent.read_bytes().count(b"\n") - 1 == session.total

    client.force_login(make_user("olga", groups=["operators"]))
    html = client.get("/sessions/").content.decode()
    assert "No earlier sessions." not in html
    for session in past:
        assert session.csv_name in html
