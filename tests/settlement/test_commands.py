"""The `settle` and `settlement_export` management commands."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from settlement import services
from settlement.models import HistoryEntry
from tests.settlement.conftest import SAMPLES, cdr_body, structure_body


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def testing(db):
    services.create_structure(payload=structure_body(), user="api")
    services.update_structure(settleid="testing", payload=SAMPLES["update"], user="api")


def test_settle_command_settles_and_records_the_user(testing):
    out, _ = run("settle", "testing", "--user", "night-batch")
    assert out.startswith("testing: settled 2 keys at ")
    assert f"chain head {HistoryEntry.objects.order_by('-id').first().hash}" in out
    entry = HistoryEntry.objects.order_by("-id").first()
    assert (entry.operation, entry.user) == ("Settle", "night-batch")
    with pytest.raises(CommandError, match="nothing to settle"):
        run("settle", "testing", "--json")


def test_settle_command_prints_the_settled_aggregates_as_json(testing):
    out, _ = run("settle", "testing", "--json")
    assert json.loads(out) == {"output": SAMPLES["aggregates"]}


def test_settle_command_fails_on_unknown_structure(db):
    with pytest.raises(CommandError, match="'nope' does not exist"):
        run("settle", "nope")


def test_export_csv_has_one_row_per_key_and_field(testing):
    run("settle", "testing")
    out, err = run("settlement_export", "testing", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["timestamp", "app", "field", "value"]
    assert sorted(row[1:] for row in rows[1:]) == [
        ["2344240e1f7-d287-46a9-8b92-f1232342431", "op", "2"],
        ["4240e1f7-d287-46a9-8b92-f112510bd9f7", "op", "1"],
    ]
    assert "exported 1 settlements (2 csv rows)" in err


def test_export_json_lists_the_settled_entries_newest_first(testing, tmp_path):
    run("settle", "testing")
    services.update_structure(settleid="testing", payload={"record": {"app": "z", "op": "X"}}, user="api")
    run("settle", "testing")
    target = tmp_path / "export.json"
    run("settlement_export", "testing", "--format", "json", "--output", str(target))
    document = json.loads(target.read_text())
    assert document["settleid"] == "testing"
    assert [entry["aggregates"] for entry in document["settled"]] == [
        {"z": {"op": "1"}},
        SAMPLES["aggregates"],
    ]


def test_export_csv_of_1cdr_settlements_includes_records_and_neutralises_formulas(db):
    services.create_structure(payload=cdr_body(), user="api")
    records = [{"operator": "=cmd()", "amount": "0.1"}, {"operator": "=cmd()", "amount": "-0.3"}]
    services.update_structure(settleid="cdr", payload={"record": records}, user="api")
    run("settle", "cdr")
    out, _ = run("settlement_export", "cdr", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert sorted(row[1:] for row in rows) == [
        ["'=cmd()", "amount", "-0.2"],
        ["'=cmd()", "minutes", "0"],
        ["'=cmd()", "records", "2"],
    ]


def test_export_refuses_an_unknown_format(testing):
    with pytest.raises(CommandError):
        run("settlement_export", "testing", "--format", "xml")
