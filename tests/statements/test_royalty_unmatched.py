"""Unmatched income: grouped by track, cleared into a contract's scope or kept by the label, each
action in the audit trail and the draft statements recomputed."""

from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry

from project.errors import InvalidInput
from statements.royalties import selectors, services
from statements.royalties.calculation import compute
from statements.royalties.models import Contract, LabelIncome, Payee
from statements.royalties.presentation import run_statements_data

pytestmark = pytest.mark.django_db

HEADER = "period,dsp,artist,isrc,upc,title,territory,units,revenue,currency,sale_type\n"
SALES = HEADER + (
    "2026-09,Spotify,Ana,NLA012600001,8712345678901,Song,NL,1000,3.3333,EUR,stream\n"
    "2026-09,Spotify,Nobody Signed,NLA012600009,,Other,NL,10,0.50,EUR,stream\n"
    "2026-09,iTunes,Nobody Signed,NLA012600009,,Other,DE,1,0.99,EUR,download\n"
    "2026-08,Spotify,Nobody Signed,NLA012600009,,Other,NL,4,0.20,EUR,stream\n"
    "2026-09,Deezer,Label Band,,8712345678918,Jingle,FR,3,0.07,EUR,stream\n"
)


def run_of(flow, content: str = SALES):
    from statements.models import StatementRun

    run_id = flow.create_run(currency="EUR")
    flow.processed_file(content.encode(), run_id, duplicate_reason="the same sales in another test run")
    return StatementRun.objects.get(pk=run_id)


def deal(name: str = "Ana deal", **scope) -> Contract:
    contract = Contract.objects.create(
        name=name,
        rate_stream=D("0.5"),
        rate_download=D("0.5"),
        rate_physical=D("0.5"),
        rate_other=D("0.5"),
        **scope,
    )
    services.set_splits(contract=contract, shares=[(Payee.objects.create(name=f"{name} payee"), D(100))])
    return contract


def groups_of(run, *, key: str = "unallocated", **filters) -> list[tuple]:
    data = run_statements_data(compute(run), finalized=False)
    return [
        (g["isrc"] or g["upc"] or g["artist"], g["dsps"], g["lines"], g["revenue"]["exact"])
        for g in selectors.unmatched_groups(data[key], "EUR", **filters)
    ]


def events(model: type, pk: int) -> list[str]:
    entries = LogEntry.objects.filter(content_type__model=model._meta.model_name, object_pk=str(pk)).order_by(
        "pk"
    )
    return [entry.additional_data["event"] for entry in entries if "event" in (entry.additional_data or {})]


def test_unmatched_lines_are_grouped_by_track_largest_first(flow):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    assert groups_of(run) == [
        ("NLA012600009", ["Spotify", "iTunes"], 3, "1.69"),
        ("8712345678918", ["Deezer"], 1, "0.07"),
    ]
    assert groups_of(run, search="label") == [("8712345678918", ["Deezer"], 1, "0.07")]
    assert groups_of(run, dsp="iTunes") == [("NLA012600009", ["Spotify", "iTunes"], 3, "1.69")]
    assert groups_of(run, search="nothing like it") == []


def test_a_group_added_to_a_contract_scope_is_paid_by_it(flow, django_user_model):
    ana = deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    user = django_user_model.objects.create_user("royalty", is_staff=True)
    assert services.add_to_contract_scope(contract=ana, scope="isrc", value=" nla012600009 ", user=user)
    assert not services.add_to_contract_scope(contract=ana, scope="isrc", value="NLA012600009", user=user)
    ana.refresh_from_db()
    assert ana.isrcs == ["NLA012600001", "NLA012600009"]
    assert groups_of(run) == [("8712345678918", ["Deezer"], 1, "0.07")]
    result = compute(run)
    assert result.statements[0].total("earnings") == (D("3.3333") + D("1.69")) * D("0.5")
    entry = LogEntry.objects.get_for_object(ana).get(additional_data__event="royalties.scope_added")
    assert entry.actor == user
    assert entry.changes["isrcs"] == [["NLA012600001"], ["NLA012600001", "NLA012600009"]]


def test_label_income_leaves_suspense_and_is_listed_as_such(flow, django_user_model):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    user = django_user_model.objects.create_user("royalty", is_staff=True)
    marked = services.mark_label_income(scope="upc", value="8712345678918", note="our jingle", user=user)
    assert services.mark_label_income(scope="upc", value="8712345678918") == marked
    data = run_statements_data(compute(run), finalized=False)
    assert data["unallocated_total"]["exact"] == "1.69"
    assert data["label_income_total"] == {"amount": "0.07", "exact": "0.07"}
    assert groups_of(run, key="label_income") == [("8712345678918", ["Deezer"], 1, "0.07")]
    assert selectors.totals(data)["label_income"] == {"amount": "0.07", "exact": "0.07"}
    assert events(LabelIncome, marked.pk) == ["royalties.label_income_marked"]
    pk = marked.pk
    services.unmark_label_income(label_income=marked, user=user)
    assert not LabelIncome.objects.exists()
    assert events(LabelIncome, pk) == ["royalties.label_income_marked", "royalties.label_income_unmarked"]
    assert len(groups_of(run)) == 2


def test_an_artist_marked_as_label_income_does_not_take_contracted_lines(flow):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    services.mark_label_income(scope="artist", value="Ana")
    data = run_statements_data(compute(run), finalized=False)
    assert data["label_income"] == []


def test_a_scope_needs_a_known_kind_and_a_value():
    with pytest.raises(InvalidInput):
        services.mark_label_income(scope="title", value="Song")
    with pytest.raises(InvalidInput):
        services.mark_label_income(scope="isrc", value="  ")


def test_a_new_contract_is_prefilled_from_the_group():
    group = {"isrc": "", "upc": "8712345678918", "artist": "Label Band", "title": "Jingle"}
    assert selectors.contract_prefill(group) == {"name": "Label Band - Jingle", "upcs": "8712345678918"}
