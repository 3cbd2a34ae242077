"""Fault injection: the django-q2 cluster is killed in the middle of a session run."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from sessions_app import services
from sessions_app.models import Session, SessionStep
from tests.servers.postgres import database_url_of


@pytest.fixture
def cluster(tmp_path, outbound_ftp, ssh_server):
    """Start `manage.py qcluster` on the test database; yields a function that SIGKILLs it."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of(),
        "VAR_DIR": str(tmp_path / "var"),
        "SESSIONS_FTP_URL": outbound_ftp.url,
        "SESSIONS_LOG_FS_URL": ssh_server.fs_url(),
        "SESSIONS_LOG_POLL_INTERVAL": "1",
        "SESSIONS_LOG_TIMEOUT": "300",
        "SESSIONS_RESULT_RECIPIENTS": "warehouse@example.test",
        "DJANGO_Q_WORKERS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=django_settings.BASE_DIR,
        env=env,
        start_new_session=True,
        stdout=(tmp_path / "cluster.log").open("wb"),
        stderr=subprocess.STDOUT,
    )

    def kill() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    yield kill
    kill()


def wait_for(condition, *, log, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; cluster log:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_cluster_killed_while_waiting_for_the_log_resumes_without_a_second_upload(
    eligible_day, cluster, outbound_ftp, ssh_server, settings, tmp_path
):
    from django_q.conf import Conf

    Conf.SYNC = False  # a real cluster runs the task (the autouse fixture restores it)
    session = services.start_session(day=eligible_day.business_date)

    wait_for(
        lambda: Session.objects.filter(pk=session.pk, uploaded_at__isnull=False).exists(),
        log=tmp_path / "cluster.log",
    )
    cluster()
    session.refresh_from_db()
    assert session.status == Session.Status.RUNNING  # the worker died without a word
    csv_file = outbound_ftp.folder / session.csv_name
    assert csv_file.exists()
    csv_file.unlink()  # a second upload would bring it back
    (ssh_server.home / settings.SESSIONS_LOG_PATH).write_text(f"READ {session.csv_name} records=3\n")
    settings.SESSIONS_LOG_FS_URL = ssh_server.fs_url()
    settings.SESSIONS_FTP_URL = outbound_ftp.url
    settings.SESSIONS_RUN_LEASE_SECONDS = 1
    time.sleep(1.5)  # the dead worker's lease expires

    call_command("run_session", "--date", session.day.isoformat(), stdout=StringIO())

    session.refresh_from_db()
    assert session.status == Session.Status.SUCCEEDED
    assert not csv_file.exists()
    assert SessionStep.objects.filter(session=session, kind="upload", outcome="done").count() == 1
    assert SessionStep.objects.filter(session=session, kind="upload", outcome="skipped").exists()
