"""The bulk tally of the usual mcCounter and 1CDR batches (records.plain_delta) writes exactly what the
general parser (parse_batch, then chain.dumps) would store and hash, and leaves every other batch to
the general parser."""

import json

import pytest
from django.db import connection

from settlement import chain, services
from settlement.models import AggregationType, HistoryEntry, SettlementType, Structure
from settlement.records import plain_delta
from tests.settlement.conftest import post, structure_body

KEYS = ["b", "a", "ä", 'q"uote', "back\\slash", "tab\there", "emoji 😀", "ctl\x01", " padded "]


def general(kind: str, records: list, aggregates: list[str]) -> tuple[str, str]:
    structure = Structure(
        settleid="s",
        primary_key="app",
        aggregation_metrics=aggregates,
        aggregation_type=kind,
        settlement_type=SettlementType.ONE_CDR,
    )
    _, delta, key_records = services._tally(structure, records, frozenset())
    return chain.dumps(delta), key_records


def plain(
    kind: str, records: list, aggregates: list[str], key_records: bool = True
) -> tuple[str, str] | None:
    return plain_delta(
        records, primary_key="app", aggregates=aggregates, aggregation_type=kind, key_records=key_records
    )


@pytest.mark.parametrize("kind", [AggregationType.MC_COUNTER, AggregationType.ONE_CDR])
def test_the_same_text_as_the_general_parser(kind):
    amounts = [
        "1",
        "-2.50",
        "0.000000000001",
        "9999999999999999999999999999.999999999999",
        "0",
        "-0.00",
        "10",
    ]
    records = []
    for n in range(300):
        record = {"app": KEYS[n % len(KEYS)], "corr": n}
        if n % 3:
            record["op"] = "UPDATE" if kind == AggregationType.MC_COUNTER else amounts[n % len(amounts)]
        if n % 4 == 0:
            record["amount"] = amounts[(n // 4) % len(amounts)]
        records.append(record)
    for aggregates in (["op"], ["op", "amount"], ["amount", "op"], ["missing"]):
        assert plain(kind, records, aggregates) == general(kind, records, aggregates), aggregates
    assert plain(kind, records, ["op"], key_records=False) == (general(kind, records, ["op"])[0], "null")


def test_sums_that_cancel_out_and_trailing_zeros():
    records = [{"app": "k", "v": "1.10"}, {"app": "k", "v": "-1.1"}, {"app": "z", "v": "2.500"}]
    records += [{"app": "s", "v": "0.0000001"}, {"app": "s", "v": "0.000000000000"}, {"app": "t", "v": "100"}]
    delta, _ = plain(AggregationType.ONE_CDR, records, ["v"])
    assert delta == '{"k":{"v":"0"},"s":{"v":"0.0000001"},"t":{"v":"100"},"z":{"v":"2.5"}}'
    assert json.loads(delta) == json.loads(general(AggregationType.ONE_CDR, records, ["v"])[0])


@pytest.mark.parametrize(
    ("kind", "records"),
    [
        (AggregationType.MC_COUNTER, [{"app": "a"}, ["not", "an", "object"]]),
        (AggregationType.MC_COUNTER, [{"app": "a"}, {"app": 5}]),  # number keys are canonicalised
        (AggregationType.MC_COUNTER, [{"app": "a"}, {"app": True}]),
        (AggregationType.MC_COUNTER, [{"app": "a"}, {"op": 1}]),  # no key
        (AggregationType.MC_COUNTER, [{"app": ""}]),
        (AggregationType.MC_COUNTER, [{"app": " \t"}]),
        (AggregationType.MC_COUNTER, [{"app": "nul\x00"}]),
        (AggregationType.MC_COUNTER, [{"app": "x" * 251}]),  # long enough to be measured in bytes
        (AggregationType.ONE_CDR, [{"app": "a", "op": 5}]),  # a JSON number
        (AggregationType.ONE_CDR, [{"app": "a", "op": "1e3"}]),
        (AggregationType.ONE_CDR, [{"app": "a", "op": "1_000"}]),
        (AggregationType.ONE_CDR, [{"app": "a", "op": " 1"}]),
        (AggregationType.ONE_CDR, [{"app": "a", "op": "1\n2"}]),
        (AggregationType.ONE_CDR, [{"app": "a", "op": "0.0000000000001"}]),  # 13 decimals
        (AggregationType.ONE_CDR, [{"app": "a", "op": "abc"}]),
        (AggregationType.MIN, [{"app": "a", "op": "1"}]),
        (AggregationType.UNIQUE_COUNT, [{"app": "a", "op": "1"}]),
    ],
)
def test_anything_unusual_takes_the_general_parser(kind, records):
    assert plain(kind, records, ["op"]) is None


def test_a_fallback_batch_is_still_applied_and_answered(api, db):
    body = structure_body(settleid="mixed", aggregationType="1CDR")
    assert post(api, "/settlement/create/", body).status_code == 200

    def update(records: list) -> dict:
        response = post(api, "/settlement/mixed/update?touched=1", {"record": records})
        assert response.status_code == 200, response.content
        return response.json()["output"]

    # A number key and a JSON number amount: the general parser's batch.
    assert update([{"app": 5, "op": 1.5}, {"app": "5", "op": "2"}])["aggregates"] == {"5": {"op": "3.5"}}
    assert update([{"app": "5", "op": "0.25"}, {"app": "6"}])["aggregates"] == {"5": {"op": "0.25"}}
    assert "aggregates" not in update([{"app": "6"}])
    assert api.get("/settlement/mixed").json()["output"]["aggregates"] == {"5": {"op": "3.75"}}


def test_deltas_are_stored_as_the_text_hashed(api, db):
    assert post(api, "/settlement/create/", structure_body(settleid="stored")).status_code == 200
    records = [{"app": "b", "op": "X"}, {"app": "ä", "op": "Y"}, {"app": "b"}]
    assert post(api, "/settlement/stored/update?touched=1", {"record": records}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT delta::text, pg_typeof(delta)::text FROM settlement_history WHERE operation = 'Update'"
        )
        text, column_type = cursor.fetchone()
    # `json` keeps the text as written (jsonb would respace and reorder it).
    assert column_type == "json"
    assert text == '{"b":{"op":"1"},"\\u00e4":{"op":"1"}}'
    entry = HistoryEntry.objects.get(operation="Update")
    assert entry.delta == {"b": {"op": "1"}, "ä": {"op": "1"}}
