"""The hash chain over history and settlements: verify finds an edited, removed or reordered row."""

import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from settlement import chain
from settlement.models import HistoryEntry, Settlement
from tests.settlement.conftest import SAMPLES, cdr_body, post, structure_body


@pytest.fixture
def busy(api):
    post(api, "/settlement/create/", structure_body())
    post(api, "/settlement/testing/update", SAMPLES["update"])
    settled = post(api, "/settlement/testing/settle")
    post(api, "/settlement/testing/update", {"record": SAMPLES["update"]["record"][0]})
    return api, settled["Settlement-Hash"]


def verify(client, settleid: str = "testing") -> dict:
    response = client.get(f"/settlement/{settleid}/verify")
    assert response.status_code == 200
    return response.json()["output"]


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_untouched_chain_verifies_and_settle_publishes_its_head(busy):
    api, published = busy
    report = verify(api)
    # Create, Update, settlement, Settle, Update.
    assert report["valid"] is True and report["entries"] == 5
    settle_entry = HistoryEntry.objects.get(operation="Settle")
    assert published == settle_entry.hash
    assert report["head"] == HistoryEntry.objects.order_by("-seq").first().hash


def test_updates_hashed_by_postgresql_verify_in_python(busy):
    api, _ = busy
    for n in range(3):
        response = post(api, "/settlement/testing/update?touched=1", {"record": {"app": f"k{n}", "op": "X"}})
        assert response.status_code == 200
    report = verify(api)
    assert (report["valid"], report["entries"]) == (True, 8)


def test_an_edited_history_row_is_named(busy):
    api, _ = busy
    target = HistoryEntry.objects.get(operation="Update", records=3)
    sql('UPDATE settlement_history SET "user" = %s WHERE id = %s', ["mallory", target.pk])
    report = verify(api)
    assert report["valid"] is False
    assert report["firstInvalid"]["kind"] == "history"
    assert report["firstInvalid"]["id"] == target.pk
    assert report["firstInvalid"]["seq"] == target.seq
    assert report["entries"] == target.seq - 1


def test_an_edited_delta_or_settlement_is_named(busy):
    api, _ = busy
    sql('UPDATE settlement_settlement SET aggregates = \'{"x": {"op": "9"}}\'')
    first = verify(api)["firstInvalid"]
    assert (first["kind"], first["id"]) == ("settlement", Settlement.objects.get().pk)
    target = HistoryEntry.objects.filter(operation="Update").order_by("seq").first()
    sql(
        "UPDATE settlement_history SET delta = jsonb_set(delta::jsonb, '{4240e1f7-d287-46a9-8b92-f112510bd9f7,op}', '\"7\"')::json WHERE id = %s",
        [target.pk],
    )
    assert verify(api)["firstInvalid"]["id"] == target.pk


def test_removed_rows_are_found(busy):
    api, _ = busy
    last = HistoryEntry.objects.order_by("-seq").first()
    sql("DELETE FROM settlement_history WHERE id = %s", [last.pk])
    assert verify(api)["firstInvalid"]["kind"] == "head"
    middle = HistoryEntry.objects.get(operation="Update")
    sql("DELETE FROM settlement_history WHERE id = %s", [middle.pk])
    report = verify(api)
    assert report["firstInvalid"]["problem"] == f"link {middle.seq} is missing"


def test_verify_settlement_command_checks_one_or_all(busy, api):
    post(api, "/settlement/create/", cdr_body())
    out = io.StringIO()
    call_command("verify_settlement", "--all", stdout=out)
    reports = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["settleid"], r["valid"]) for r in reports] == [("cdr", True), ("testing", True)]
    sql("UPDATE settlement_history SET records = 99 WHERE operation = 'Update'")
    out = io.StringIO()
    with pytest.raises(CommandError, match="testing"):
        call_command("verify_settlement", "testing", stdout=out)
    assert json.loads(out.getvalue())["valid"] is False
    with pytest.raises(CommandError):
        call_command("verify_settlement")


def test_the_canonical_json_is_sorted_compact_json():
    at = datetime(2026, 12, 1, 4, 5, 6, 7, tzinfo=UTC)
    fields = {
        "settleid": "s",
        "operation": "Update",
        "user": "ü",
        "at": at,
        "last_settlement_at": at,
        "resets": False,
        "records": 2,
        "duplicates": 1,
    }
    delta = {"k": {"op": "2"}, "a": {"op": "1"}}
    canonical = chain.history_canonical(**fields, delta_json=chain.dumps(delta), key_records_json="null")
    assert canonical == json.dumps(
        {
            "at": "2026-12-01T04:05:06.000007+00:00",
            "delta": delta,
            "duplicates": 1,
            "keyRecords": None,
            "kind": "history",
            "lastSettlement": "2026-12-01T04:05:06.000007+00:00",
            "operation": "Update",
            "records": 2,
            "resets": False,
            "settleid": "s",
            "user": "ü",
        },
        sort_keys=True,
        separators=(",", ":"),
    )
