"""dedupField: a record whose value was already seen since the last settle or clear is skipped."""

import pytest

from tests.settlement.conftest import post, structure_body
from tests.settlement.test_errors import assert_error


@pytest.fixture
def metered(api):
    body = structure_body("metered", dedupField="corr")
    output = post(api, "/settlement/create/", body).json()["output"]
    assert output["dedupField"] == "corr"
    return api


def update(client, *records, path="/settlement/metered/update"):
    return post(client, path, {"record": list(records)}).json()["output"]


def test_repeats_within_and_across_batches_are_skipped_and_counted(metered):
    first = update(metered, {"app": "a", "op": "X", "corr": "e1"}, {"app": "a", "op": "X", "corr": "e1"})
    assert (first["aggregates"], first["duplicates"]) == ({"a": {"op": "1"}}, 1)
    second = update(metered, {"app": "a", "op": "X", "corr": "e1"}, {"app": "b", "op": "X", "corr": "e2"})
    assert (second["aggregates"], second["duplicates"]) == ({"a": {"op": "1"}, "b": {"op": "1"}}, 1)
    # A JSON number and its string spelling are one value.
    third = update(metered, {"app": "a", "op": "X", "corr": 5}, {"app": "a", "op": "X", "corr": "5"})
    assert third["duplicates"] == 1
    assert metered.get("/settlement/metered").json()["output"]["aggregates"] == {
        "a": {"op": "2"},
        "b": {"op": "1"},
    }


def test_settle_and_clear_forget_the_seen_values(metered):
    record = {"app": "a", "op": "X", "corr": "e1"}
    update(metered, record)
    post(metered, "/settlement/metered/settle")
    assert update(metered, record)["duplicates"] == 0
    post(metered, "/settlement/metered/clear")
    assert update(metered, record)["duplicates"] == 0
    assert update(metered, record)["duplicates"] == 1


def test_a_refused_batch_marks_nothing_as_seen(metered):
    response = post(
        metered,
        "/settlement/metered/update",
        {"record": [{"app": "a", "corr": "e1"}, {"op": "X", "corr": "e2"}]},
    )
    assert_error(response, 400, "SETTLE-01", "record[1]")
    assert update(metered, {"app": "a", "op": "X", "corr": "e1"})["duplicates"] == 0


def test_every_record_must_carry_the_dedup_field(metered):
    response = post(metered, "/settlement/metered/update", {"record": [{"app": "a", "op": "X"}]})
    assert_error(response, 400, "SETTLE-01", "dedupField 'corr'")


def test_the_sample_record_must_hold_the_dedup_field(api):
    body = structure_body("bad", dedupField="event")
    assert_error(post(api, "/settlement/create/", body), 400, "SETTLE-01", "dedupField")


def test_structures_without_dedup_field_answer_as_the_spec(api):
    post(api, "/settlement/create/", structure_body())
    output = update(
        api,
        {"app": "a", "op": "X", "corr": "e1"},
        {"app": "a", "op": "X", "corr": "e1"},
        path="/settlement/testing/update",
    )
    assert "duplicates" not in output and "dedupField" not in output
    assert output["aggregates"] == {"a": {"op": "2"}}
