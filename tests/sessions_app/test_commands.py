"""run_session, close_session and session_status."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Session

pytestmark = pytest.mark.django_db


def call(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_run_session_starts_and_runs_the_days_session_printing_progress(eligible_day, receiver):
    out = call("run_session", "--date", eligible_day.business_date.isoformat())

    session = Session.objects.get()
    assert session.status == Session.Status.SUCCEEDED
    assert "generated 2/3" in out and "generated 3/3" in out
    assert "3 shipments processed out of 3 total" in out


def test_run_session_resumes_a_failed_session_without_uploading_twice(eligible_day, receiver, settings):
    receiver.active = False
    settings.SESSIONS_LOG_TIMEOUT = 0.3
    with pytest.raises(CommandError, match="failed: timeout"):
        call("run_session")
    session = Session.objects.get()
    (receiver.folder / session.csv_name).unlink()
    receiver.confirm(session.csv_name, 3)

    out = call("run_session", "--date", session.day.isoformat())

    assert "already uploaded" in out
    session.refresh_from_db()
    assert session.status == Session.Status.SUCCEEDED
    assert not (receiver.folder / session.csv_name).exists()


def test_run_session_refuses_a_closed_day_and_a_bad_date(eligible_day, receiver):
    call("run_session")
    call("close_session")
    with pytest.raises(CommandError, match="closed"):
        call("run_session")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call("run_session", "--date", "23/11/2026")


def test_run_session_without_a_file_says_the_day_is_not_eligible(db):
    with pytest.raises(CommandError, match="No invoice file"):
        call("run_session", "--date", "2026-01-02")


def test_close_session_needs_force_until_the_run_succeeded(eligible_day):
    services.start_session(day=timezone.localdate(), enqueue=False)
    with pytest.raises(CommandError, match="force-close"):
        call("close_session")

    assert "force-closed" in call("close_session", "--force")
    with pytest.raises(CommandError, match="already closed"):
        call("close_session", "--force")


def test_session_status_prints_the_line_or_the_json(eligible_day):
    day = timezone.localdate().isoformat()
    assert f"No session for {day} yet - 3 shipments ready to process" in call("session_status")

    services.start_session(day=timezone.localdate(), enqueue=False)
    data = json.loads(call("session_status", "--date", day, "--json"))

    assert data["status"] == "queued" and data["day"] == day
    assert data["status_line"] == f"Session opened for {day} - 0 shipments processed out of 3 total"
    assert data["steps"][0]["kind"] == "start"
