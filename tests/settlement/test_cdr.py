"""1CDR: exact decimal sums per key and field, and the consolidated 1CDR settlement."""

from decimal import Decimal

from settlement import services
from settlement.models import Aggregate
from tests.settlement.conftest import cdr_body, post


def test_decimal_strings_sum_exactly(api):
    post(api, "/settlement/create/", cdr_body())
    records = [{"operator": "TIM", "amount": "0.1"}, {"operator": "TIM", "amount": "0.2"}]
    output = post(api, "/settlement/cdr/update", {"record": records}).json()["output"]
    assert output["aggregates"] == {"TIM": {"amount": "0.3"}}
    # The update only appended its delta; folding writes the exact sum to the stored row.
    services.fold_structure(structure_id=services.Structure.objects.get(settleid="cdr").pk)
    assert Aggregate.objects.get(key="TIM", field="amount").total == Decimal("0.3")


def test_json_numbers_are_summed_as_decimals_not_floats(api):
    post(api, "/settlement/create/", cdr_body())
    body = b'{"record": [{"operator": "TIM", "amount": 0.1, "minutes": 1}, {"operator": "TIM", "amount": 0.2, "minutes": 2}]}'
    post(api, "/settlement/cdr/update", {"record": {"operator": "TIM", "amount": "0"}})
    response = api.post("/settlement/cdr/update", data=body, content_type="application/json")
    assert response.json()["output"]["aggregates"] == {"TIM": {"amount": "0.3", "minutes": "3"}}


def test_sums_across_batches_keep_every_digit(api):
    post(api, "/settlement/create/", cdr_body())
    for amount in ("123456789012345678901234567.000000000001", "-0.000000000001", "1e3", "  2.50 "):
        post(api, "/settlement/cdr/update", {"record": {"operator": "VOD", "amount": amount}})
    aggregates = api.get("/settlement/cdr").json()["output"]["aggregates"]
    assert aggregates == {"VOD": {"amount": "123456789012345678901235569.5"}}


def test_negative_and_zero_totals_are_plain_strings(api):
    post(api, "/settlement/create/", cdr_body())
    records = [
        {"operator": "A", "amount": "-1.25"},
        {"operator": "B", "amount": "5"},
        {"operator": "B", "amount": "-5.00"},
    ]
    output = post(api, "/settlement/cdr/update", {"record": records}).json()["output"]
    assert output["aggregates"] == {"A": {"amount": "-1.25"}, "B": {"amount": "0"}}


def test_1cdr_settlement_returns_one_consolidated_record_per_key(api):
    post(api, "/settlement/create/", cdr_body())
    records = [
        {"operator": "TIM", "minutes": "3", "amount": "0.1"},
        {"operator": "TIM", "minutes": "2", "amount": "0.2"},
        {"operator": "VOD", "minutes": "7"},
        {"operator": 42, "amount": "1"},
    ]
    post(api, "/settlement/cdr/update", {"record": records})
    settled = post(api, "/settlement/cdr/settle").json()["output"]
    assert settled == [
        {"operator": "42", "minutes": "0", "amount": "1", "records": 1},
        {"operator": "TIM", "minutes": "5", "amount": "0.3", "records": 2},
        {"operator": "VOD", "minutes": "7", "amount": "0", "records": 1},
    ]
    entries = api.get("/settlement/cdr/settled").json()["output"]
    assert [entry["aggregates"] for entry in entries] == [settled]
    assert "aggregates" not in api.get("/settlement/cdr").json()["output"]


def test_1cdr_aggregation_with_plain_settlement_returns_the_sums(api):
    post(api, "/settlement/create/", cdr_body(settlement_type="none"))
    post(
        api,
        "/settlement/cdr/update",
        {"record": [{"operator": "TIM", "amount": "0.1"}, {"operator": "TIM", "amount": "0.2"}]},
    )
    assert post(api, "/settlement/cdr/settle").json() == {"output": {"TIM": {"amount": "0.3"}}}


def test_mccounter_with_1cdr_settlement_reports_records_per_key(api):
    body = {**cdr_body(), "aggregationType": "mcCounter"}
    post(api, "/settlement/create/", body)
    post(api, "/settlement/cdr/update", {"record": [{"operator": "TIM", "amount": "x"}, {"operator": "TIM"}]})
    assert post(api, "/settlement/cdr/settle").json() == {
        "output": [{"operator": "TIM", "minutes": "0", "amount": "1", "records": 2}]
    }


def test_history_of_1cdr_folds_exact_sums(api):
    post(api, "/settlement/create/", cdr_body())
    post(api, "/settlement/cdr/update", {"record": {"operator": "TIM", "amount": "0.1"}})
    post(api, "/settlement/cdr/update", {"record": {"operator": "TIM", "amount": "0.2"}})
    history = api.get("/settlement/cdr/history").json()["output"]
    assert [entry.get("aggregates") for entry in history] == [
        {"TIM": {"amount": "0.3"}},
        {"TIM": {"amount": "0.1"}},
        None,
    ]
