"""min, max, latest and uniqueCount: exact, across batches and folds, and in 1CDR settlements."""

import pytest

from settlement import services
from settlement.models import Structure
from tests.settlement.conftest import post
from tests.settlement.test_errors import assert_error

BATCHES = [
    [
        {"app": "A", "v": "0.000000000001"},
        {"app": "A", "v": 5},
        {"app": "B", "v": "-123456789012345678901234567.5"},
        {"app": "A"},
    ],
    [{"app": "A", "v": 5.0}, {"app": "B", "v": 1e3}, {"app": "A", "v": "-0.5"}, {"app": "C", "v": "x"}],
]
EXPECTED = {
    "min": {"A": "-0.5", "B": "-123456789012345678901234567.5"},
    "max": {"A": "5", "B": "1000"},
    "latest": {"A": "-0.5", "B": "1000", "C": "x"},
    "uniqueCount": {"A": "3", "B": "2", "C": "1"},
}


def create(client, kind: str, settlement_type: str = "none") -> None:
    body = {
        "settleid": kind.lower(),
        "aggregates": ["v"],
        "primaryKey": "app",
        "aggregationType": kind,
        "settlementType": settlement_type,
        "record": {"app": "A", "v": "1"},
    }
    assert post(client, "/settlement/create/", body).status_code == 200


def batches_for(kind: str) -> list[list[dict]]:
    # min and max take numbers only; C's text value belongs to latest and uniqueCount.
    if kind in ("min", "max"):
        return [[r for r in batch if r.get("v") != "x"] for batch in BATCHES]
    return BATCHES


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("fold_between", [False, True])
def test_each_type_is_exact_across_batches_and_folds(api, kind, fold_between):
    create(api, kind)
    first, second = batches_for(kind)
    post(api, f"/settlement/{kind.lower()}/update", {"record": first})
    if fold_between:
        assert services.fold_structure(structure_id=Structure.objects.get().pk) == 1
    output = post(api, f"/settlement/{kind.lower()}/update", {"record": second}).json()["output"]
    expected = {key: {"v": value} for key, value in EXPECTED[kind].items()}
    assert output["aggregates"] == expected
    assert api.get(f"/settlement/{kind.lower()}").json()["output"]["aggregates"] == expected
    services.fold_structure(structure_id=Structure.objects.get().pk)
    assert api.get(f"/settlement/{kind.lower()}").json()["output"]["aggregates"] == expected
    assert api.get(f"/settlement/{kind.lower()}/history").json()["output"][0]["aggregates"] == expected
    assert post(api, f"/settlement/{kind.lower()}/settle").json()["output"] == expected


def test_the_touched_reply_shows_what_the_batch_contributed(api):
    create(api, "uniqueCount")
    post(api, "/settlement/uniquecount/update", {"record": BATCHES[0]})
    touched = post(api, "/settlement/uniquecount/update?touched=1", {"record": BATCHES[1]}).json()["output"]
    assert touched["aggregates"] == {"A": {"v": "2"}, "B": {"v": "1"}, "C": {"v": "1"}}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_1cdr_settlement_consolidates_every_type(api, kind):
    create(api, kind, settlement_type="1CDR")
    for batch in batches_for(kind):
        post(api, f"/settlement/{kind.lower()}/update", {"record": batch})
    post(api, f"/settlement/{kind.lower()}/update", {"record": {"app": "D"}})
    settled = post(api, f"/settlement/{kind.lower()}/settle").json()["output"]
    records = {"A": 5, "B": 2, "C": 1, "D": 1} if kind not in ("min", "max") else {"A": 5, "B": 2, "D": 1}
    empty = "0" if kind == "uniqueCount" else None
    assert settled == [
        {"app": key, "v": EXPECTED[kind].get(key, empty), "records": n} for key, n in sorted(records.items())
    ]


def test_min_and_max_refuse_what_is_not_a_number(api):
    create(api, "max")
    response = post(
        api, "/settlement/max/update", {"record": [{"app": "A", "v": "7"}, {"app": "A", "v": "x"}]}
    )
    assert_error(response, 400, "SETTLE-01", "record[1] (2nd)", "not a number")
    response = post(api, "/settlement/max/update", {"record": {"app": "A", "v": "0.0000000000001"}})
    assert_error(response, 400, "SETTLE-01", "decimal places")


def test_latest_and_unique_count_refuse_objects(api):
    create(api, "latest")
    response = post(api, "/settlement/latest/update", {"record": {"app": "A", "v": {"x": 1}}})
    assert_error(response, 400, "SETTLE-01", "string or a number")
