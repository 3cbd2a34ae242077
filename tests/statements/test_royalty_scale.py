"""Statements kept as rows (issue 23 item 9): a draft is computed once per state of its inputs and
read back from then on; finalising keeps those very rows, read back identically; runs finalised
before the rows existed are turned into rows from their JSON document."""

import importlib
from decimal import Decimal as D

import pytest

from statements.royalties import calculation, presentation, selectors, services, storage
from statements.royalties.models import (
    RoyaltyPresentedStatements,
    RoyaltyRun,
    RoyaltyStatement,
    RoyaltyStatementGroup,
    RoyaltyStatementSet,
    RoyaltyStatementShare,
    RoyaltySuspenseGroup,
)
from tests.statements.test_royalties import ANA_ROYALTY, contract, payee, processed_run

pytestmark = pytest.mark.django_db


def whole(run) -> dict:
    """The run's statements and every payee's whole statement, as the pages and documents read them."""
    data = selectors.run_statements(run)
    payees = {s["payee"]["id"]: selectors.payee_statement(run, s["payee"]["id"]) for s in data["statements"]}
    return {"data": data, "payees": payees}


@pytest.fixture
def draft(flow):
    ana, bo = payee("Ana"), payee("Bo")
    deal = contract(shares=[(ana, "60"), (bo, "40")])
    services.post_entry(payee=ana, contract=deal, kind="advance", amount=D("0.5"), currency="EUR")
    return processed_run(flow), ana, bo, deal


def test_a_second_view_reads_the_kept_draft_until_an_input_changes(draft, monkeypatch):
    run, ana, _, deal = draft
    first = storage.statement_set(run)
    calls = []
    real = calculation.compute
    monkeypatch.setattr(storage, "compute", lambda r: calls.append(r) or real(r))
    assert storage.statement_set(run).pk == first.pk and calls == []
    services.post_entry(payee=ana, contract=deal, kind="cost", amount=D("1"), currency="EUR")
    again = storage.statement_set(run)
    assert again.pk != first.pk and len(calls) == 1
    assert not RoyaltyStatementSet.objects.filter(pk=first.pk).exists()  # the older draft went
    assert not RoyaltyStatementGroup.objects.filter(statement_set_id=first.pk).exists()  # with its rows
    deal.rate_stream = D("0.30")
    deal.save()
    assert storage.statement_set(run).pk != again.pk


def ana_summary(run) -> dict:
    (ana,) = (s for s in selectors.run_statements(run)["statements"] if s["payee"]["name"] == "Ana")
    return ana["summary"]


def test_a_draft_keeps_its_figures_as_presented_and_the_next_views_read_them(draft, monkeypatch):
    run, *_ = draft
    kept = storage.statement_set(run)  # computed: its figures kept with its rows
    assert RoyaltyPresentedStatements.objects.get(statement_set=kept).version == storage.PRESENTED_VERSION
    built = presentation.statements_figures(kept)
    monkeypatch.setattr(storage, "statements_figures", lambda kept: pytest.fail("built again"))
    data = selectors.run_statements(run)
    assert {name: data[name] for name in built} == built  # as the rows give them, to the last key
    assert list(data) == [
        "run",
        "sequence",
        "problems",
        "statements",
        "unallocated",
        "unallocated_total",
        "label_income",
        "label_income_total",
        "revenue_total",
        "already_allocated_lines",
        "duplicates",
    ]
    assert selectors.run_statements(run) == data


def test_figures_not_kept_or_kept_by_another_presentation_are_built_and_kept(draft, monkeypatch):
    run, *_ = draft
    kept = storage.statement_set(run)
    expected = selectors.run_statements(run)
    RoyaltyPresentedStatements.objects.filter(statement_set=kept).delete()  # a set kept before them
    assert selectors.run_statements(run) == expected
    assert RoyaltyPresentedStatements.objects.filter(statement_set=kept).exists()
    monkeypatch.setattr(storage, "PRESENTED_VERSION", storage.PRESENTED_VERSION + 1)
    builds = []
    real = storage.statements_figures
    monkeypatch.setattr(storage, "statements_figures", lambda kept: builds.append(kept) or real(kept))
    assert selectors.run_statements(run) == expected and len(builds) == 1
    assert selectors.run_statements(run) == expected and len(builds) == 1
    assert RoyaltyPresentedStatements.objects.get(statement_set=kept).version == storage.PRESENTED_VERSION


def test_the_figures_shown_change_exactly_when_an_input_does(draft, flow):
    run, ana, _bo, deal = draft
    share = D("0.6")
    assert D(ana_summary(run)["earnings"]["exact"]) == ANA_ROYALTY * share
    deal.rate_stream = D("0.30")  # a contract
    deal.save()
    royalty = D("3.3333") * D("0.30") + D("2.07") * D("0.15") + D("1.1113") * D("0.9") * D("0.30")
    assert D(ana_summary(run)["earnings"]["exact"]) == royalty * share
    # a rate of the run
    assert flow.rates(run.pk, [{"currency": "USD", "period": "2026-08", "rate": "0.8"}]).status_code == 200
    royalty = D("3.3333") * D("0.30") + D("2.07") * D("0.15") + D("1.1113") * D("0.8") * D("0.30")
    summary = ana_summary(run)
    assert D(summary["earnings"]["exact"]) == royalty * share
    assert summary["recouped"]["exact"] == "0.5"
    services.post_entry(payee=ana, contract=deal, kind="cost", amount=D("1"), currency="EUR")  # the ledger
    summary = ana_summary(run)
    assert D(summary["earnings"]["exact"]) == royalty * share
    assert summary["recouped"] == summary["earnings"]  # 1.5 outstanding now: every earning recouped
    assert RoyaltyPresentedStatements.objects.count() == 1  # the older drafts' went with them


def test_finalised_statements_read_back_as_the_draft_computed(draft):
    run, ana, _bo, _ = draft
    before = whole(run)
    services.finalize_run(run=run)
    after = whole(run)
    assert before["data"]["run"]["finalized"] is False and after["data"]["run"]["finalized"] is True
    for side in (before, after):
        side["data"]["run"].pop("finalized")
    assert after == before
    ana_statement = after["payees"][ana.pk]
    assert D(ana_statement["summary"]["earnings"]["exact"]) == ANA_ROYALTY * D("0.6")
    assert sum(D(line["earnings"]["exact"]) for line in ana_statement["lines"]) == ANA_ROYALTY * D("0.6")
    assert ana_statement["advances"] == {
        "outstanding": {"amount": "0.50", "exact": "0.5"},
        "recouped": {"amount": "0.50", "exact": "0.5"},
        "remaining": {"amount": "0.00", "exact": "0"},
    }
    assert after["data"]["run"]["period"] == {"first": "2026-08", "last": "2026-09"}


def test_a_finalised_run_keeps_its_statements_whatever_the_contracts_become(draft):
    run, _ana, _, deal = draft
    services.finalize_run(run=run)
    before = whole(run)
    deal.rate_stream = D("0.9")
    deal.save()
    assert whole(run) == before


def test_a_document_of_a_run_finalised_before_becomes_rows(draft):
    run, ana, _bo, _ = draft
    kept = storage.statement_set(run)
    old = {  # the JSON document finalize_run used to keep, with one payee's statement
        "run": {"id": run.pk, "name": run.name, "currency": "EUR", "finalized": True},
        "sequence": 1,
        "problems": [],
        "statements": [
            {
                "payee": {"id": ana.pk, "name": "Ana", "email": "", "minimum_payout": "0"},
                "currency": "EUR",
                "summary": {
                    name: {"amount": "1.00", "exact": "1"} for name in (*storage.SUMMARY, "carried_forward")
                },
                "balances": [
                    {"pool": "contract:1", **{n: {"amount": "1.00", "exact": "1"} for n in storage.SUMMARY}}
                ],
                "lines": [
                    {
                        "contract_id": kept.breakdowns.first().contract_id,
                        "sale_type": "stream",
                        "dsp": "Spotify",
                        "territory": "NL",
                        "period": "2026-09",
                        "isrc": "NLA012600001",
                        "title": "Song",
                        "lines": 1,
                        "units": 1000,
                        "base": "3.3333",
                        "rate": "0.2",
                        "share": "60",
                        "earnings": {"amount": "0.40", "exact": "0.399996"},
                    }
                ],
            }
        ],
        "unallocated": [
            {
                "artist": "Nobody Signed",
                "isrc": "",
                "upc": "",
                "title": "Other",
                "dsp": "Spotify",
                "period": "2026-09",
                "lines": 1,
                "units": 10,
                "revenue": {"amount": "0.50", "exact": "0.5"},
            }
        ],
        "unallocated_total": {"amount": "0.50", "exact": "0.5"},
        "revenue_total": {"amount": "6.90", "exact": "6.9"},
        "already_allocated_lines": 0,
    }
    kept.delete()
    royalty = RoyaltyRun.objects.create(run=run, sequence=1)
    migration = importlib.import_module("statements.migrations.0023_royalty_statement_rows")
    models = {
        model.__name__: model
        for model in (
            RoyaltyStatementSet,
            RoyaltyStatementGroup,
            RoyaltyStatementShare,
            RoyaltySuspenseGroup,
        )
    }

    def statement_as_0029_fills_it(**fields) -> RoyaltyStatement:
        # Today's model has the payee currency fields migration 0029 added and filled from the run.
        return RoyaltyStatement(currency="EUR", run_earnings=fields["earnings"], **fields)

    statement_as_0029_fills_it.objects = RoyaltyStatement.objects
    models["RoyaltyStatement"] = statement_as_0029_fills_it
    migration._rows(royalty, old, models)
    data = selectors.run_statements(run)
    assert data["run"]["finalized"] is True and data["run"]["period"] == {
        "first": "2026-09",
        "last": "2026-09",
    }
    (statement,) = data["statements"]
    assert statement["payee"]["name"] == "Ana" and statement["summary"]["payable"]["exact"] == "1"
    assert statement["advances"] is None  # not kept by then
    assert [g["artist"] for g in data["unallocated"]] == ["Nobody Signed"]
    assert data["revenue_total"]["exact"] == "6.9"
    (line,) = selectors.payee_statement(run, ana.pk)["lines"]
    assert line["earnings"]["exact"] == "0.399996" and line["share"] == "60"
