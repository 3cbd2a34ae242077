"""Unmatched income: grouped by track, cleared into a contract's scope or kept by the label, each
action in the audit trail and the draft statements recomputed."""

import re
from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry
from django.test import Client

from project.errors import InvalidInput
from statements.royalties import pages, selectors, services
from statements.royalties.calculation import compute
from statements.royalties.models import Contract, LabelIncome, Payee

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
    data = selectors.run_statements(run)
    return [
        (g["isrc"] or g["upc"] or g["artist"], g["dsps"], g["lines"], g["revenue"]["exact"])
        for g in selectors.search_groups(selectors.unmatched_groups(data[key], "EUR"), **filters)
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
    data = selectors.run_statements(run)
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
    data = selectors.run_statements(run)
    assert data["label_income"] == []


def test_a_scope_needs_a_known_kind_and_a_value():
    with pytest.raises(InvalidInput):
        services.mark_label_income(scope="title", value="Song")
    with pytest.raises(InvalidInput):
        services.mark_label_income(scope="isrc", value="  ")


def test_a_new_contract_is_prefilled_from_the_group():
    group = {"isrc": "", "upc": "8712345678918", "artist": "Label Band", "title": "Jingle"}
    assert selectors.contract_prefill(group) == {"name": "Label Band - Jingle", "upcs": "8712345678918"}


# --- the page: /statements/<run>/royalties/unmatched/ ----------------------------------------------


@pytest.fixture
def bea(make_user) -> Client:
    client = Client()
    client.force_login(make_user("bea", groups=["back-office"]))
    return client


def page_of(client: Client, run, query: str = "") -> str:
    response = client.get(f"/statements/{run.pk}/royalties/unmatched/{query}")
    assert response.status_code == 200
    return response.content.decode()


def shown_groups(page: str) -> list[str]:
    return re.findall(r'<tr data-group="([^"]*)">', page)


def test_the_page_lists_groups_largest_first_with_search_and_dsp_filter(flow, bea):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    review = bea.get(f"/statements/{run.pk}/royalties/").content.decode()
    assert f'href="/statements/{run.pk}/royalties/unmatched/"' in review
    page = page_of(bea, run)
    assert shown_groups(page) == ["NLA012600009||Nobody Signed", "|8712345678918|Label Band"]
    assert "Spotify, iTunes" in page and 'title="1.69"' in page
    assert shown_groups(page_of(bea, run, "?q=jingle")) == ["|8712345678918|Label Band"]
    assert shown_groups(page_of(bea, run, "?dsp=iTunes")) == ["NLA012600009||Nobody Signed"]
    new_contract = re.search(r'<a href="([^"]*)" class="new-contract">', page).group(1)
    assert new_contract == "/admin/statements/contract/add/?name=Nobody+Signed+-+Other&amp;isrcs=NLA012600009"


def test_the_page_is_paginated(flow, bea, monkeypatch):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    monkeypatch.setattr(pages, "GROUPS_PER_PAGE", 1)
    assert shown_groups(page_of(bea, run, "?page=2")) == ["|8712345678918|Label Band"]
    assert "Page 2 of 2" in page_of(bea, run, "?page=2")


def test_the_label_income_list_is_paginated_apart_from_the_groups(flow, bea, monkeypatch):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    for artist in ("Band A", "Band B"):
        LabelIncome.objects.create(scope="artist", value=artist, note="")
    monkeypatch.setattr(pages, "GROUPS_PER_PAGE", 1)
    second = page_of(bea, run, "?marked_page=2")
    assert "Band B" in second and "Band A" not in second
    assert 'id="label-income-pages"' in second and "marked_page=1#label-income" in second
    # The groups stay on their own first page.
    assert shown_groups(second) == ["NLA012600009||Nobody Signed"]


def test_adding_a_group_to_a_contract_from_the_page(flow, bea):
    ana = deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    url = f"/statements/{run.pk}/royalties/unmatched/action/"
    response = bea.post(
        url,
        {"action": "scope", "match": "isrc:NLA012600009", "contract": "Ana deal", "q": "nobody", "note": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/statements/{run.pk}/royalties/unmatched/?q=nobody"
    ana.refresh_from_db()
    assert ana.isrcs == ["NLA012600001", "NLA012600009"]
    page = page_of(bea, run)
    assert shown_groups(page) == ["|8712345678918|Label Band"]
    assert "NLA012600009 added to contract “Ana deal”." in page
    entry = LogEntry.objects.get_for_object(ana).get(additional_data__event="royalties.scope_added")
    assert entry.actor.username == "bea"


def test_an_unknown_contract_or_match_is_refused_with_a_message(flow, bea):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    url = f"/statements/{run.pk}/royalties/unmatched/action/"
    bea.post(url, {"action": "scope", "match": "isrc:NLA012600009", "contract": "No such deal"})
    assert "No contract is named “No such deal”." in page_of(bea, run)
    bea.post(url, {"action": "label_income", "match": "title:Other"})
    assert "Choose the ISRC, UPC or artist to match." in page_of(bea, run)
    assert len(shown_groups(page_of(bea, run))) == 2


def test_keeping_a_group_as_label_income_and_putting_it_back(flow, bea):
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    url = f"/statements/{run.pk}/royalties/unmatched/action/"
    bea.post(url, {"action": "label_income", "match": "upc:8712345678918", "note": "our jingle"})
    page = page_of(bea, run)
    assert shown_groups(page) == ["NLA012600009||Nobody Signed"]
    assert "our jingle" in page and "UPC 8712345678918" in page
    review = bea.get(f"/statements/{run.pk}/royalties/").content.decode()
    assert 'id="label-income-summary"' in review and "0.07 EUR" in review
    finalize = bea.get(f"/statements/{run.pk}/finalize/").content.decode()
    assert 'id="total-label-income"' in finalize
    marked = LabelIncome.objects.get()
    assert marked.created_by.username == "bea"
    response = bea.post(f"/statements/{run.pk}/royalties/label-income/{marked.pk}/remove/")
    assert response.status_code == 302
    assert len(shown_groups(page_of(bea, run))) == 2


def test_the_page_is_for_back_office_staff_and_actions_are_posts(flow, make_user):
    run = run_of(flow)
    anonymous = Client().get(f"/statements/{run.pk}/royalties/unmatched/")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    operator = Client()
    operator.force_login(make_user("otto", groups=["operators"]))
    assert operator.get(f"/statements/{run.pk}/royalties/unmatched/").status_code == 403
    assert operator.post(f"/statements/{run.pk}/royalties/unmatched/action/", {}).status_code == 403
    staff = Client()
    staff.force_login(make_user("bea", groups=["back-office"]))
    assert staff.get(f"/statements/{run.pk}/royalties/unmatched/action/").status_code == 405
