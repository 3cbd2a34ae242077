"""Draft review pages (issue 23 item 3): /statements/<run>/royalties/ lists one row per payee
(opening, earnings, reserves, recouped, closing, payable, carried forward) with totals and the
unmatched income with its share of the revenue; each payee's statement is a page with its summary,
breakdowns and paginated line detail. Expected figures are plain Decimal arithmetic."""

import re
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import pytest
from django.test import Client

from statements.royalties import pages, services, storage
from tests.statements.test_royalties import ANA_ROYALTY, contract, payee, processed_run

pytestmark = pytest.mark.django_db

REVENUE = D("3.3333") + D("2.07") + D("1.1113") * D("0.9") + D("0.50")
ADVANCE = D("0.5")


def cents(amount: D) -> str:
    return str(amount.quantize(D("0.01"), ROUND_HALF_EVEN) + 0)


def numbers(row_html: str) -> list[str]:
    return re.findall(r'<td class="number"[^>]*>(?:<strong>)?([^<]*)<', row_html)


@pytest.fixture
def draft(flow):
    ana, bo = payee("Ana"), payee("Bo")
    deal = contract(shares=[(ana, "60"), (bo, "40")])
    services.post_entry(payee=ana, contract=deal, kind="advance", amount=ADVANCE, currency="EUR")
    return processed_run(flow), ana, bo


@pytest.fixture
def bea(make_user) -> Client:
    client = Client()
    client.force_login(make_user("bea", groups=["back-office"]))
    return client


def test_review_lists_each_payee_with_totals_and_the_unmatched_income(draft, bea):
    run, ana, bo = draft
    assert 'id="review-statements"' in bea.get(f"/statements/{run.pk}/").content.decode()
    response = bea.get(f"/statements/{run.pk}/royalties/")
    assert response.status_code == 200
    page = response.content.decode()
    ana_earnings, bo_earnings = ANA_ROYALTY * D("0.6"), ANA_ROYALTY * D("0.4")
    ana_closing = ana_earnings - ADVANCE
    # opening, earnings, reserves held, released, recouped, closing, payable, carried forward
    expected_ana = [-ADVANCE, ana_earnings, 0, 0, ADVANCE, ana_closing, ana_closing, 0]
    expected_bo = [0, bo_earnings, 0, 0, 0, bo_earnings, bo_earnings, 0]
    rows = dict(re.findall(r'<tr data-payee="(\d+)">(.*?)</tr>', page, re.S))
    assert numbers(rows[str(ana.pk)]) == [cents(D(x)) for x in expected_ana]
    assert numbers(rows[str(bo.pk)]) == [cents(D(x)) for x in expected_bo]
    total = re.search(r'<tr id="payees-total">(.*?)</tr>', page, re.S).group(1)
    # Totals are the exact sums, rounded once.
    assert numbers(total) == [cents(D(a) + D(b)) for a, b in zip(expected_ana, expected_bo, strict=True)]
    assert "Draft:" in page
    unmatched = re.search(r'id="unmatched-summary">(.*?)</p>', page, re.S).group(1)
    share = (D("0.50") * 100 / REVENUE).quantize(D("0.1"), ROUND_HALF_EVEN)
    assert (
        "0.50 EUR in 1 group of lines" in unmatched
        and f"{share} % of the revenue ({cents(REVENUE)} EUR)" in unmatched
    )
    assert "Nobody Signed" in page


def test_a_payee_statement_is_a_page_with_breakdowns_and_paginated_lines(draft, bea, monkeypatch):
    run, ana, _ = draft
    monkeypatch.setattr(pages, "LINES_PER_PAGE", 2)
    page = bea.get(f"/statements/{run.pk}/royalties/{ana.pk}/").content.decode()
    assert "Ana" in page and "DRAFT" in page and f"/statements/{ana.pk}.pdf" in page
    payable = re.search(r'data-figure="payable"><th>[^<]*</th>(.*?)</tr>', page, re.S).group(1)
    assert numbers(payable) == [f"{cents(ANA_ROYALTY * D('0.6') - ADVANCE)} EUR"]  # with its currency
    for heading in ("By DSP", "By month", "By territory", "By track"):
        assert heading in page
    spotify = D("3.3333") * D("0.2") * D("0.6") + D("1.1113") * D("0.9") * D("0.2") * D("0.6")
    assert re.search(rf"Spotify</td><td[^>]*>{cents(spotify)}<", page)
    lines = page.split('id="lines"')[1]
    assert "Page 1 of 2" in lines and lines.count('data-label="Month">20') == 2
    second = (
        bea.get(f"/statements/{run.pk}/royalties/{ana.pk}/?page=2").content.decode().split('id="lines"')[1]
    )
    assert "Page 2 of 2" in second and second.count('data-label="Month">20') == 1
    assert "20 %" in lines + second and "15 %" in lines + second  # rates in percent


def test_review_pages_refuse_and_speak_italian(draft, bea, make_user):
    run, ana, _ = draft
    assert bea.get(f"/statements/{run.pk}/royalties/999999/").status_code == 404
    assert bea.get("/statements/999999/royalties/").status_code == 404
    assert bea.post(f"/statements/{run.pk}/royalties/").status_code == 405
    ops = Client()
    ops.force_login(make_user("ops", groups=["operators"]))
    assert ops.get(f"/statements/{run.pk}/royalties/").status_code == 403
    assert Client().get(f"/statements/{run.pk}/royalties/{ana.pk}/").status_code == 302
    page = bea.get(f"/statements/{run.pk}/royalties/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Proventi non abbinati" in page and "Bozza:" in page


def test_a_finalised_run_is_reviewed_as_posted(draft, bea):
    run, ana, _ = draft
    services.finalize_run(run=run)
    page = bea.get(f"/statements/{run.pk}/royalties/").content.decode()
    assert "Finalised: the statements as posted" in page and "Draft:" not in page
    assert bea.get(f"/statements/{run.pk}/royalties/{ana.pk}/").status_code == 200


def test_a_second_view_in_another_language_formats_the_kept_figures_in_it(draft, bea, monkeypatch):
    run, ana, _ = draft
    english = bea.get(f"/statements/{run.pk}/royalties/").content.decode()
    # The figures are kept as text, whatever the language: the second view formats them, never builds them.
    monkeypatch.setattr(storage, "statements_figures", lambda kept: pytest.fail("built again"))
    italian = bea.get(f"/statements/{run.pk}/royalties/", HTTP_ACCEPT_LANGUAGE="it").content.decode()

    def ana_row(page: str) -> list[str]:
        return numbers(dict(re.findall(r'<tr data-payee="(\d+)">(.*?)</tr>', page, re.S))[str(ana.pk)])

    assert ana_row(english)[1] == cents(ANA_ROYALTY * D("0.6"))
    assert ana_row(italian) == [figure.replace(".", ",") for figure in ana_row(english)]


def test_the_payees_are_reviewed_a_page_at_a_time_with_the_totals_of_all(draft, bea, monkeypatch):
    run, ana, bo = draft
    monkeypatch.setattr(pages, "PAYEES_PER_PAGE", 1)
    first = bea.get(f"/statements/{run.pk}/royalties/").content.decode()
    second = bea.get(f"/statements/{run.pk}/royalties/?page=2").content.decode()
    assert re.findall(r'<tr data-payee="(\d+)">', first) == [str(ana.pk)]
    assert re.findall(r'<tr data-payee="(\d+)">', second) == [str(bo.pk)]
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    total = [
        numbers(re.search(r'<tr id="payees-total">(.*?)</tr>', page, re.S).group(1))
        for page in (first, second)
    ]
    assert total[0] == total[1] and total[0][1] == cents(ANA_ROYALTY)  # both payees' earnings
