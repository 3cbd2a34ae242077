"""Idempotency-Key: a retried request is applied once and its stored reply replayed."""

from datetime import timedelta

import pytest

from project.models import IdempotencyKey
from settlement.models import HistoryEntry, Settlement
from settlement.tasks import SCHEDULES, expire_idempotency_keys
from tests.settlement.conftest import SAMPLES, post, structure_body
from tests.settlement.test_concurrency import run_threads
from tests.settlement.test_errors import assert_error


def keyed(client, path: str, body=None, key: str = "k-1"):
    return post(client, path, body, HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def testing(api):
    assert post(api, "/settlement/create/", structure_body()).status_code == 200
    return api


def updates() -> int:
    return HistoryEntry.objects.filter(operation="Update").count()


def test_a_retried_update_is_applied_once_and_replayed(testing):
    first = keyed(testing, "/settlement/testing/update", SAMPLES["update"])
    retry = keyed(testing, "/settlement/testing/update/", SAMPLES["update"])
    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert updates() == 1
    assert testing.get("/settlement/testing").json()["output"]["aggregates"] == SAMPLES["aggregates"]


def test_the_same_key_with_another_body_is_settle_02_422(testing):
    keyed(testing, "/settlement/testing/update", SAMPLES["update"])
    other = {"record": SAMPLES["update"]["record"][:1]}
    assert_error(keyed(testing, "/settlement/testing/update", other), 422, "SETTLE-02", "different request")
    assert_error(keyed(testing, "/settlement/testing/settle"), 422, "SETTLE-02")
    assert updates() == 1


def test_create_settle_and_clear_replay_too(api):
    created = keyed(api, "/settlement/create/", structure_body(), key="c")
    assert keyed(api, "/settlement/create/", structure_body(), key="c").content == created.content
    post(api, "/settlement/testing/update", SAMPLES["update"])
    settled = keyed(api, "/settlement/testing/settle", key="s")
    replay = keyed(api, "/settlement/testing/settle", key="s")
    assert (replay.status_code, replay.content) == (200, settled.content)
    assert replay["Settlement-Hash"] == settled["Settlement-Hash"]
    assert Settlement.objects.count() == 1
    keyed(api, "/settlement/testing/clear", key="x")
    assert keyed(api, "/settlement/testing/clear", key="x")["Idempotent-Replayed"] == "true"
    assert HistoryEntry.objects.filter(operation="Clear").count() == 1


def test_a_failed_attempt_stores_nothing_and_may_be_retried(testing):
    bad = {"record": [{"op": "X"}]}
    assert keyed(testing, "/settlement/testing/update", bad).status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert keyed(testing, "/settlement/testing/update", SAMPLES["update"]).status_code == 200


def test_keys_belong_to_their_user(client_for):
    alice, bob = client_for("alice"), client_for("bob")
    post(alice, "/settlement/create/", structure_body())
    keyed(alice, "/settlement/testing/update", SAMPLES["update"])
    response = keyed(bob, "/settlement/testing/update", SAMPLES["update"])
    assert "Idempotent-Replayed" not in response
    assert updates() == 2


def test_keys_expire_after_the_configured_hours(testing, settings):
    settings.IDEMPOTENCY_HOURS = 2
    keyed(testing, "/settlement/testing/update", SAMPLES["update"])
    IdempotencyKey.objects.update(created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=1))
    assert expire_idempotency_keys() == 0
    IdempotencyKey.objects.update(created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=2))
    assert expire_idempotency_keys() == 1
    assert "Idempotent-Replayed" not in keyed(testing, "/settlement/testing/update", SAMPLES["update"])
    assert updates() == 2
    assert "settlement.tasks.expire_idempotency_keys" in {spec.func for spec in SCHEDULES}


def test_an_unusable_key_is_settle_01_400(testing):
    assert_error(keyed(testing, "/settlement/testing/update", SAMPLES["update"], key=" "), 400, "SETTLE-01")
    assert_error(
        keyed(testing, "/settlement/testing/update", SAMPLES["update"], key="k" * 256), 400, "SETTLE-01"
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_key_apply_once(api_client, make_user):
    user = make_user("retrier", groups=["back-office"])
    clients = [api_client(user) for _ in range(6)]
    post(clients[0], "/settlement/create/", structure_body())
    replies = []

    def retry(client):
        def run():
            replies.append(keyed(client, "/settlement/testing/update", SAMPLES["update"], key="same"))

        return run

    run_threads(*(retry(client) for client in clients))
    assert [r.status_code for r in replies] == [200] * 6
    assert len({r.content for r in replies}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in replies) == 5
    assert updates() == 1
    assert clients[0].get("/settlement/testing").json()["output"]["aggregates"] == SAMPLES["aggregates"]
