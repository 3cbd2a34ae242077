from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from exports.models import Document, PendingSync, SyncRun, Webhook
from exports.webhooks import PENDING_SCHEDULE

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(moneybird, capsys):
    call_command("moneybird_webhook", "--register", "https://backoffice.example/api/exports/webhook/")
    assert "Registered Moneybird webhook" in capsys.readouterr().out
    return moneybird.webhooks[-1]


def call(payload, **extra):
    # Moneybird's calls carry no session and no CSRF token.
    return Client(enforce_csrf_checks=True).post(
        "/api/exports/webhook/", payload, content_type="application/json", **extra
    )


def run_scheduler():
    Schedule.objects.filter(name=PENDING_SCHEDULE).update(next_run=timezone.now() - timedelta(seconds=1))
    scheduler()


def test_register_keeps_moneybird_s_token(registered, moneybird):
    webhook = Webhook.objects.get()
    assert (webhook.moneybird_id, webhook.token) == (registered["id"], registered["token"])
    assert registered["enabled_events"] == ["document_saved", "document_updated", "document_destroyed"]
    assert registered["url"] == "https://backoffice.example/api/exports/webhook/"


def test_webhook_call_queues_a_debounced_sync_of_just_those_ids(
    registered, moneybird, s3_storage, read_summary
):
    untouched, edited = moneybird.add(), moneybird.add(state="open")
    call_command("sync_moneybird")
    moneybird.change(edited["id"], state="paid")
    moneybird.change(untouched["id"], state="paid")  # Moneybird sent no call for this one (yet)
    created = moneybird.add()
    moneybird.requests.clear()

    for doc_id, action in [
        (edited["id"], "document_updated"),
        (created["id"], "document_saved"),
        (edited["id"], "document_updated"),
    ]:
        response = call(moneybird.webhook_payload(doc_id, action))
        assert response.status_code == 200 and response.json() == {"queued": [doc_id]}

    assert sorted(PendingSync.objects.values_list("moneybird_id", flat=True)) == sorted(
        [edited["id"], created["id"]]
    )
    schedule = Schedule.objects.get(name=PENDING_SCHEDULE)  # one sync for the burst
    assert schedule.next_run > timezone.now() and schedule.func == "exports.tasks.sync_pending"
    assert Document.objects.get(moneybird_id=edited["id"]).status == "open"

    run_scheduler()  # django-q2 tasks run inline in the tests

    assert Document.objects.get(moneybird_id=edited["id"]).status == "paid"
    assert Document.objects.filter(moneybird_id=created["id"]).exists()
    assert Document.objects.get(moneybird_id=untouched["id"]).status == "open"  # left to the scheduled sync
    assert sorted(ids for method, _, ids in moneybird.requests if method == "POST" for ids in ids) == sorted(
        [edited["id"], created["id"]]
    )
    run = SyncRun.objects.latest("started_at")
    assert run.partial and (run.created, run.updated) == (1, 1)
    assert not PendingSync.objects.exists() and not Schedule.objects.filter(name=PENDING_SCHEDULE).exists()
    assert {item["id"]: item["status"] for item in read_summary()}[edited["id"]] == "paid"


def test_document_destroyed_call_marks_it_deleted(registered, moneybird, s3_storage):
    record = moneybird.add()
    call_command("sync_moneybird")
    payload = moneybird.webhook_payload(record["id"], "document_destroyed")
    moneybird.remove(record["id"])

    assert call(payload).status_code == 200
    run_scheduler()

    assert Document.objects.get().removed_at is not None


def test_a_wrong_token_is_refused_and_queues_nothing(registered, moneybird):
    record = moneybird.add()
    payload = moneybird.webhook_payload(record["id"], "document_updated") | {"webhook_token": "guessed"}

    response = call(payload)

    assert response.status_code == 403
    assert not PendingSync.objects.exists() and not Schedule.objects.filter(name=PENDING_SCHEDULE).exists()


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({}, 403),  # no webhook token at all
        ({"webhook_id": "999", "webhook_token": "x", "action": "document_updated", "entity_id": "1"}, 403),
        ("not an object", 403),
        # found by Schemathesis: a NUL reached PostgreSQL's comparison and answered 500
        ({"webhook_id": "1\x002", "webhook_token": "x", "action": "document_updated"}, 403),
    ],
    ids=["empty", "unknown-webhook", "not-an-object", "nul-in-webhook-id"],
)
def test_calls_that_are_not_ours_are_refused(registered, payload, status):
    response = call(payload)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "webhook_token_invalid"
    assert not PendingSync.objects.exists()


def test_while_registering_moneybird_s_check_of_the_url_is_answered(moneybird):
    Webhook.objects.create(url="https://backoffice.example/api/exports/webhook/")  # registration under way
    response = call({"webhook_id": "123", "webhook_token": "new", "action": "test_webhook"})
    assert response.status_code == 200 and response.json() == {"queued": []}
    assert call({}).status_code == 200


def test_other_events_are_answered_and_ignored(registered, moneybird):
    record = moneybird.add()
    response = call(moneybird.webhook_payload(record["id"], "contact_changed"))
    assert response.status_code == 200 and response.json() == {"queued": []}
