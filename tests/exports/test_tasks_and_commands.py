import json

import pytest
from django.core.management import CommandError, call_command
from django_q.tasks import async_task, result

from exports import tasks
from exports.models import Document
from project.schedules import declared_schedules

pytestmark = pytest.mark.django_db


def test_sync_is_scheduled_every_exports_sync_minutes(settings):
    spec = next(spec for spec in declared_schedules() if spec.func == "exports.tasks.sync_moneybird")
    assert spec.minutes == settings.EXPORTS_SYNC_MINUTES


def test_scheduled_sync_is_a_no_op_without_a_token(settings):
    settings.MONEYBIRD_API_URL = "https://moneybird.example/api/v2"
    settings.MONEYBIRD_TOKEN = ""
    assert tasks.sync_moneybird() == {"skipped": True}


def test_scheduled_sync_runs_through_django_q(moneybird, s3_storage):
    moneybird.add()
    task_id = async_task("exports.tasks.sync_moneybird")
    assert result(task_id)["created"] == 1
    assert Document.objects.count() == 1


def test_sync_moneybird_command(moneybird, s3_storage, capsys):
    moneybird.add()
    call_command("sync_moneybird")
    call_command("sync_moneybird")
    out = capsys.readouterr().out
    assert "fetched 1/1 documents" in out
    assert "1 new" in out and "No changes" in out


def test_sync_moneybird_command_reports_a_refused_token(moneybird, settings):
    settings.MONEYBIRD_TOKEN = "wrong"
    with pytest.raises(CommandError, match="401"):
        call_command("sync_moneybird")


def test_publish_summary_command_rewrites_the_file(moneybird, s3_storage, s3_server, settings, capsys):
    moneybird.add()
    call_command("sync_moneybird")
    key = f"{settings.EXPORTS_PREFIX}incoming-summary-list.json"
    s3_server.client().delete_object(Bucket=s3_storage, Key=key)
    call_command("publish_summary")
    assert "1 documents" in capsys.readouterr().out
    assert len(json.loads(s3_server.client().get_object(Bucket=s3_storage, Key=key)["Body"].read())) == 1
