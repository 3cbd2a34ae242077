"""The actions that are not one field change reach the audit trail through record_action():
settlement settle and clear, rates and exceptions replaced, an invoice file re-processed."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from ingestion.services import ingest_bytes, reprocess_file
from settlement import services as settlement
from statements import services as statements
from tests.ingestion.conftest import content, file_name
from tests.settlement.conftest import structure_body

pytestmark = pytest.mark.django_db


def events(event: str) -> list[LogEntry]:
    return list(LogEntry.objects.filter(additional_data__event=event))


def test_settle_and_clear_are_recorded_on_the_structure():
    structure, _ = settlement.create_structure(payload=structure_body("audited"), user="clerk")
    settlement.update_structure(
        settleid="audited", payload={"record": [structure_body()["record"]]}, user="clerk"
    )
    settlement.settle_structure(settleid="audited", user="clerk")
    settlement.clear_structure(settleid="audited", user="clerk")
    [settled] = events("settlement.settle")
    [cleared] = events("settlement.clear")
    assert settled.object_pk == cleared.object_pk == str(structure.pk)
    assert settled.changes_dict["settlement"][1]  # the settlement it made


def test_rates_and_exceptions_replaced_are_recorded_with_their_counts(make_user):
    user = make_user("clerk", groups=["back-office"])
    run = statements.create_run(
        name="Q3", currency="EUR", artists=[], dsps=[], periods=["2026-09"], period_from="", period_to="",
        sales_file_ids=[], user=user,
    )  # fmt: skip
    rate = {"currency": "USD", "period": "2026-09", "rate": Decimal("0.9")}
    statements.replace_rates(run=run, items=[rate], user=user)
    statements.replace_rates(run=run, items=[rate, {**rate, "currency": "GBP"}], user=user)
    first, second = sorted(events("statements.rates_replaced"), key=lambda e: e.pk)
    assert (first.actor, first.changes_dict["rates"]) == (user, [0, 1])
    assert second.changes_dict["rates"] == [1, 2]
    exception = {"currency": "USD", "rate": Decimal("0.8"), "dsp": "Spotify", "salesfile": None, "period": ""}
    statements.replace_exceptions(run=run, items=[exception], user=user)
    [replaced] = events("statements.exceptions_replaced")
    assert replaced.changes_dict["exceptions"] == [0, 1]


def test_an_invoice_file_reprocessed_is_recorded():
    report = ingest_bytes(name=file_name(2), content=content("600000001|1|Toys|1.50", "x"), source="manual")
    reprocess_file(invoice_file=report.file)
    [entry] = events("ingestion.file_reprocessed")
    assert entry.object_pk == str(report.file.pk)
