"""Replays the spec's samples: create → update with the three sample records → get, settle, settled,
clear and history, comparing the documents' shapes and values (timestamps apart)."""

import copy
import json
import time

import pytest

from tests.settlement.conftest import SAMPLES, post, structure_body

STATIC = {
    "aggregationMetrics": ["op"],
    "aggregationType": "mcCounter",
    "primaryKey": "app",
    "settleid": "testing",
    "settlementType": "none",
}


def assert_object(document: dict, *, operation: str, user: str = "settler", aggregates=None) -> None:
    expected_keys = {*STATIC, "lastSettlement", "lastUpdate"} | ({"aggregates"} if aggregates else set())
    assert set(document) == expected_keys
    assert {key: document[key] for key in STATIC} == STATIC
    assert set(document["lastUpdate"]) == {"operation", "timestamp", "user"}
    assert document["lastUpdate"]["operation"] == operation
    assert document["lastUpdate"]["user"] == user
    assert isinstance(document["lastUpdate"]["timestamp"], int)
    assert isinstance(document["lastSettlement"], int)
    assert abs(document["lastUpdate"]["timestamp"] - time.time()) < 600
    if aggregates:
        assert document["aggregates"] == aggregates


@pytest.fixture
def created(api):
    response = post(api, "/settlement/create/", SAMPLES["create"])
    assert response.status_code == 200
    return response.json()["output"]


def test_create_answers_the_spec_sample(created):
    assert_object(created, operation="Create")
    # The spec's sample: a new structure's lastSettlement is its creation time.
    assert created["lastSettlement"] == created["lastUpdate"]["timestamp"]


def test_update_with_the_sample_records_counts_them_per_app(api, created):
    response = post(api, "/settlement/testing/update", SAMPLES["update"])
    assert response.status_code == 200
    output = response.json()["output"]
    assert_object(output, operation="Update", aggregates=SAMPLES["aggregates"])
    assert output["lastSettlement"] == created["lastSettlement"]


def test_get_shows_the_current_aggregates(api, created):
    post(api, "/settlement/testing/update", SAMPLES["update"])
    response = api.get("/settlement/testing")
    assert response.status_code == 200
    assert_object(response.json()["output"], operation="Update", aggregates=SAMPLES["aggregates"])


def test_settle_returns_the_aggregates_and_settled_lists_them(api, created):
    post(api, "/settlement/testing/update", SAMPLES["update"])
    settled = post(api, "/settlement/testing/settle")
    assert settled.status_code == 200
    assert settled.json() == {"output": SAMPLES["aggregates"]}

    entries = api.get("/settlement/testing/settled").json()["output"]
    assert len(entries) == 1
    assert set(entries[0]) == {"aggregates", "timestamp"}
    assert entries[0]["aggregates"] == SAMPLES["aggregates"]

    state = api.get("/settlement/testing").json()["output"]
    assert_object(state, operation="Settle")
    assert state["lastSettlement"] == entries[0]["timestamp"]


def test_clear_after_settle_answers_the_spec_sample(api, created):
    post(api, "/settlement/testing/update", SAMPLES["update"])
    post(api, "/settlement/testing/settle")
    settled_at = api.get("/settlement/testing/settled").json()["output"][0]["timestamp"]
    response = post(api, "/settlement/testing/clear")
    assert response.status_code == 200
    output = response.json()["output"]
    assert_object(output, operation="Clear")
    assert output["lastSettlement"] == settled_at


def test_clear_drops_the_aggregates_without_settling(api, created):
    post(api, "/settlement/testing/update", SAMPLES["update"])
    post(api, "/settlement/testing/clear")
    assert "aggregates" not in api.get("/settlement/testing").json()["output"]
    assert api.get("/settlement/testing/settled").json() == {"output": []}


def test_history_lists_every_operation_newest_first_with_the_state_after_it(api, created):
    post(api, "/settlement/testing/update", SAMPLES["update"])
    history = api.get("/settlement/testing/history").json()["output"]
    assert [entry["lastUpdate"]["operation"] for entry in history] == ["Update", "Create"]
    assert_object(history[0], operation="Update", aggregates=SAMPLES["aggregates"])
    assert_object(history[1], operation="Create")

    post(api, "/settlement/testing/settle")
    post(api, "/settlement/testing/update", {"record": SAMPLES["update"]["record"][0]})
    post(api, "/settlement/testing/clear")
    history = api.get("/settlement/testing/history").json()["output"]
    assert [entry["lastUpdate"]["operation"] for entry in history] == [
        "Clear",
        "Update",
        "Settle",
        "Update",
        "Create",
    ]
    assert "aggregates" not in history[0]
    assert history[1]["aggregates"] == {"4240e1f7-d287-46a9-8b92-f112510bd9f7": {"op": "1"}}
    assert "aggregates" not in history[2]
    assert history[3]["aggregates"] == SAMPLES["aggregates"]


def test_every_path_works_with_and_without_the_trailing_slash(api):
    assert post(api, "/settlement/create", structure_body("a")).status_code == 200
    assert post(api, "/settlement/create/", structure_body("b")).status_code == 200
    for settleid in ("a", "b"):
        for suffix in ("", "/"):
            assert post(api, f"/settlement/{settleid}/update{suffix}", SAMPLES["update"]).status_code == 200
            assert api.get(f"/settlement/{settleid}{suffix}").status_code == 200
            assert api.get(f"/settlement/{settleid}/history{suffix}").status_code == 200
            assert api.get(f"/settlement/{settleid}/settled{suffix}").status_code == 200
            assert post(api, f"/settlement/{settleid}/settle{suffix}").status_code == 200
            assert post(api, f"/settlement/{settleid}/clear{suffix}").status_code == 200


def test_aggregates_in_the_spec_string_form_are_accepted(api):
    body = structure_body("strings", aggregates="['op', 'corr']")
    output = post(api, "/settlement/create/", body).json()["output"]
    assert output["aggregationMetrics"] == ["op", "corr"]
    post(api, "/settlement/strings/update", SAMPLES["update"])
    aggregates = api.get("/settlement/strings").json()["output"]["aggregates"]
    assert aggregates["2344240e1f7-d287-46a9-8b92-f1232342431"] == {"corr": "2", "op": "2"}


def test_update_answers_every_key_by_default_and_the_batch_alone_with_touched(api, created):
    post(api, "/settlement/testing/update", SAMPLES["update"])
    one = {"record": {"app": "4240e1f7-d287-46a9-8b92-f112510bd9f7", "op": "CREATE"}}
    full = post(api, "/settlement/testing/update", one).json()["output"]["aggregates"]
    assert full == {
        "2344240e1f7-d287-46a9-8b92-f1232342431": {"op": "2"},
        "4240e1f7-d287-46a9-8b92-f112510bd9f7": {"op": "2"},
    }
    response = post(api, "/settlement/testing/update?touched=1", one)
    assert response.json()["output"]["aggregates"] == {"4240e1f7-d287-46a9-8b92-f112510bd9f7": {"op": "1"}}
    assert response.content == compact(response.json())
    assert api.get("/settlement/testing").json()["output"]["aggregates"][
        "4240e1f7-d287-46a9-8b92-f112510bd9f7"
    ] == {"op": "3"}


def test_mccounter_counts_only_records_carrying_the_field(api):
    post(api, "/settlement/create/", structure_body("partial", aggregates=["op", "corr"]))
    records = [{"app": "x", "op": "A"}, {"app": "x", "op": "B", "corr": "c"}, {"app": "x", "corr": None}]
    output = post(api, "/settlement/partial/update", {"record": records}).json()["output"]
    assert output["aggregates"] == {"x": {"corr": "1", "op": "2"}}


def test_last_update_user_is_the_authenticated_username(client_for):
    alice, bob = client_for("alice"), client_for("bob")
    assert (
        post(alice, "/settlement/create/", structure_body()).json()["output"]["lastUpdate"]["user"] == "alice"
    )
    output = post(bob, "/settlement/testing/update", SAMPLES["update"]).json()["output"]
    assert output["lastUpdate"]["user"] == "bob"
    history = alice.get("/settlement/testing/history").json()["output"]
    assert [entry["lastUpdate"]["user"] for entry in history] == ["bob", "alice"]


def test_keys_with_quotes_backslashes_braces_and_null_round_trip(api):
    post(api, "/settlement/create/", structure_body("odd"))
    keys = ['a"b', "c\\d", "e,f", "{g}", "NULL", "ü 🙂", " spaced ", "'", 7]
    output = post(api, "/settlement/odd/update", {"record": [{"app": key, "op": "X"} for key in keys]}).json()
    assert output["output"]["aggregates"] == {str(key): {"op": "1"} for key in keys}
    assert api.get("/settlement/odd").json()["output"]["aggregates"] == {
        str(key): {"op": "1"} for key in keys
    }


def test_history_limit_keeps_the_newest_entries_with_their_full_state(api, created):
    post(api, "/settlement/testing/update", SAMPLES["update"])
    post(api, "/settlement/testing/settle")
    for _ in range(2):
        post(api, "/settlement/testing/update", {"record": SAMPLES["update"]["record"][0]})
    full = api.get("/settlement/testing/history").json()["output"]
    assert len(full) == 5
    for limit in (1, 2, 3, 4, 5, 9):
        assert api.get(f"/settlement/testing/history?limit={limit}").json()["output"] == full[:limit]
    assert api.get("/settlement/testing/history?limit=0").status_code == 400
    too_big = api.get(f"/settlement/testing/history?limit={2**64}")  # beyond PostgreSQL's bigint
    assert too_big.status_code == 400 and too_big.json()["error"]["code"] == "SETTLE-01"


def compact(document) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def spec_reply(name: str, actual: bytes) -> bytes:
    """The spec's sample reply `name` with the moments and user of `actual` (the only values a replay
    cannot reproduce), serialised as the original service did."""
    expected = copy.deepcopy(SAMPLES["replies"][name])
    got = json.loads(actual)["output"]
    objects = zip(expected["output"], got, strict=True) if name == "history" else [(expected["output"], got)]
    for sample, reply in objects:
        if "lastUpdate" in sample:
            sample["lastSettlement"] = reply["lastSettlement"]
            sample["lastUpdate"]["timestamp"] = reply["lastUpdate"]["timestamp"]
            sample["lastUpdate"]["user"] = reply["lastUpdate"]["user"]
        elif "timestamp" in sample:
            sample["timestamp"] = reply["timestamp"]
    return compact(expected)


def test_the_spec_samples_are_answered_byte_for_byte(api):
    create = post(api, "/settlement/create/", SAMPLES["create"])
    assert create.content == spec_reply("create", create.content)
    update = post(api, "/settlement/testing/update", SAMPLES["update"])
    assert update.content == spec_reply("update", update.content)
    state = api.get("/settlement/testing")
    assert state.content == spec_reply("get", state.content)
    history = api.get("/settlement/testing/history")
    assert history.content == spec_reply("history", history.content)
    settle = post(api, "/settlement/testing/settle")
    assert settle.content == spec_reply("settle", settle.content)
    # settled lists every settlement (newest first) where the spec's sample shows one entry.
    settled = api.get("/settlement/testing/settled")
    entries = json.loads(settled.content)["output"]
    assert len(entries) == 1
    one = compact({"output": entries[0]})
    assert one == spec_reply("settled", one)
    assert settled.content == b'{"output":[' + one[len(b'{"output":') : -1] + b"]}"
    clear = post(api, "/settlement/testing/clear")
    assert clear.content == spec_reply("clear", clear.content)
