"""/healthz: no auth, no data; 200 when every dependency works, 503 naming the failed checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ingestion.models import FtpPoll

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy(settings):
    """A running cluster (schedules on time) and a last FTP poll that worked."""
    from django_q.models import Schedule

    Schedule.objects.create(
        name="backoffice:deliver-outbox",
        func="project.tasks.deliver_outbox",
        schedule_type=Schedule.MINUTES,
        minutes=5,
        next_run=timezone.now() + timedelta(minutes=5),
    )
    now = timezone.now()
    FtpPoll.objects.create(started_at=now, finished_at=now, succeeded=True, summary="")


def test_all_checks_pass(client, healthy):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "cluster", "queue", "storage", "ftp"}


def test_a_stopped_cluster_is_a_503_naming_the_check(client, healthy):
    from django_q.models import Schedule

    Schedule.objects.update(next_run=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cluster"]
    assert "no task cluster" in response.json()["checks"]["cluster"]["detail"]


def test_an_old_waiting_task_fails_the_queue_check(client, healthy):
    from django_q.models import OrmQ

    OrmQ.objects.create(key="backoffice", payload="x", lock=timezone.now() - timedelta(hours=2))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["failed"] == ["queue"]


def test_a_failed_last_ftp_poll_fails_the_ftp_check(client, healthy):
    now = timezone.now()
    FtpPoll.objects.create(
        started_at=now + timedelta(seconds=1), finished_at=now, succeeded=False, summary=""
    )
    body = client.get("/healthz").json()
    assert body["failed"] == ["ftp"]
    assert body["checks"]["ftp"]["detail"].startswith("the last poll failed; last successful poll")


def test_unreachable_storage_fails_the_storage_check(client, healthy, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocker / "media"},
        },
    }
    response = client.get("/healthz")
    assert response.status_code == 503 and "storage" in response.json()["failed"]
