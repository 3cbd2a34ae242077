"""Finalise with care (issue 23 item 5): a confirmation page with the totals and what finalising
locks, refusing statements that changed since they were shown, and the optional four-eyes rule
(ROYALTY_FINALISE_APPROVALS=2: a second, different staff user approves first). Expected figures
are computed here with plain Decimal arithmetic from the sales lines."""

import re
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import pytest
from django.test import Client

from statements.royalties import services
from statements.royalties.models import Payee, RoyaltyRun
from tests.statements.test_browser_run_page import cards_scrolling_sideways
from tests.statements.test_royalties import ANA_ROYALTY, contract, payee, processed_run

pytestmark = pytest.mark.django_db

REVENUE = D("3.3333") + D("2.07") + D("1.1113") * D("0.9") + D("0.50")  # every line, converted to EUR
UNMATCHED = D("0.50")  # "Nobody Signed"


def staff(make_user, name: str) -> Client:
    client = Client()
    client.force_login(make_user(name, groups=["back-office"]))
    return client


def fingerprint(page: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)


@pytest.fixture
def run(flow):
    ana, bo = payee("Ana"), payee("Bo")
    contract(shares=[(ana, "60"), (bo, "40")])
    return processed_run(flow)


def test_confirmation_page_shows_the_totals_then_finalises(run, make_user):
    bea = staff(make_user, "bea")
    card = bea.get(f"/statements/{run.pk}/").content.decode()
    assert f'id="finalize" href="/statements/{run.pk}/finalize/"' in card  # a link, no one-click POST
    response = bea.get(f"/statements/{run.pk}/finalize/")
    assert response.status_code == 200 and not RoyaltyRun.objects.exists()
    page = response.content.decode()
    payable = ANA_ROYALTY.quantize(D("0.01"), ROUND_HALF_EVEN)  # the two payees share all of it
    share = (UNMATCHED * 100 / REVENUE).quantize(D("0.1"), ROUND_HALF_EVEN)
    assert re.search(r'id="total-payees">2<', page)
    assert f'id="total-payable">{payable} EUR<' in page
    assert 'id="total-carried">0.00 EUR<' in page
    assert f"{UNMATCHED} EUR" in page and "1 group of lines" in page and f"{share} % of the revenue" in page
    assert "What finalising locks" in page and "cannot be undone" in page
    assert 'id="confirm-finalize">' in page  # enabled: one approval (the finaliser's) is enough
    response = bea.post(f"/statements/{run.pk}/finalize/", {"fingerprint": fingerprint(page)}, follow=True)
    assert "Statements finalised as #1." in response.content.decode()
    assert RoyaltyRun.objects.get().run == run
    # Finalised: the confirmation sends back to the run.
    assert bea.get(f"/statements/{run.pk}/finalize/").status_code == 302


def test_statements_changed_since_shown_are_not_finalised(run, make_user):
    bea = staff(make_user, "bea")
    shown = fingerprint(bea.get(f"/statements/{run.pk}/finalize/").content.decode())
    ana = Payee.objects.get(name="Ana")
    services.post_entry(
        payee=ana, contract=ana.contracts.get(), kind="advance", amount=D("100"), currency="EUR"
    )
    response = bea.post(f"/statements/{run.pk}/finalize/", {"fingerprint": shown}, follow=True)
    assert "changed since they were reviewed" in response.content.decode()
    assert not RoyaltyRun.objects.exists()


def test_four_eyes_a_second_staff_user_approves_first(run, make_user, settings, api):
    settings.ROYALTY_FINALISE_APPROVALS = 2
    bea, carl = staff(make_user, "bea"), staff(make_user, "carl")
    page = bea.get(f"/statements/{run.pk}/finalize/").content.decode()
    assert 'id="confirm-finalize" disabled' in page and "No approval yet." in page
    # Neither the page nor the API finalises without the approval.
    response = bea.post(f"/statements/{run.pk}/finalize/", {"fingerprint": fingerprint(page)}, follow=True)
    assert "needs the approval of 1 other staff user" in response.content.decode()
    refused = api.post(f"/api/statement_run/{run.pk}/finalize/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "approval_required"
    # Bea approves; she still cannot finalise alone.
    bea.post(f"/statements/{run.pk}/finalize/", {"fingerprint": fingerprint(page), "approve": "1"})
    page = bea.get(f"/statements/{run.pk}/finalize/").content.decode()
    assert "Approved by: bea." in page and 'id="approve-finalize"' not in page
    assert 'id="confirm-finalize" disabled' in page
    bea.post(f"/statements/{run.pk}/finalize/", {"fingerprint": fingerprint(page)})
    assert not RoyaltyRun.objects.exists()
    # Carl, a different staff user, finalises.
    page = carl.get(f"/statements/{run.pk}/finalize/").content.decode()
    assert "Approved by: bea." in page and 'id="confirm-finalize">' in page
    response = carl.post(f"/statements/{run.pk}/finalize/", {"fingerprint": fingerprint(page)}, follow=True)
    assert "Statements finalised as #1." in response.content.decode()
    assert RoyaltyRun.objects.get().finalized_by.username == "carl"


def test_an_approval_of_other_statements_does_not_count(run, make_user, settings):
    settings.ROYALTY_FINALISE_APPROVALS = 2
    bea, carl = staff(make_user, "bea"), staff(make_user, "carl")
    shown = fingerprint(bea.get(f"/statements/{run.pk}/finalize/").content.decode())
    response = bea.post(
        f"/statements/{run.pk}/finalize/", {"fingerprint": "0" * 64, "approve": "1"}, follow=True
    )
    assert "changed since they were reviewed" in response.content.decode()
    bea.post(f"/statements/{run.pk}/finalize/", {"fingerprint": shown, "approve": "1"})
    cleo = payee("Cleo")
    contract("Other deal", shares=[(cleo, "100")], isrcs=[], artists=["Nobody Signed"])  # statements change
    page = carl.get(f"/statements/{run.pk}/finalize/").content.decode()
    assert "No approval yet." in page and fingerprint(page) != shown
    carl.post(f"/statements/{run.pk}/finalize/", {"fingerprint": fingerprint(page)})
    assert not RoyaltyRun.objects.exists()


def test_confirmation_needs_back_office_and_speaks_italian(run, make_user):
    outsider = Client()
    outsider.force_login(make_user("ops", groups=["operators"]))
    assert outsider.get(f"/statements/{run.pk}/finalize/").status_code == 403
    assert Client().get(f"/statements/{run.pk}/finalize/").status_code == 302  # to the login
    bea = staff(make_user, "bea")
    page = bea.get(f"/statements/{run.pk}/finalize/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Cosa blocca la finalizzazione" in page and "Finalizza i rendiconti" in page
    assert bea.put(f"/statements/{run.pk}/finalize/").status_code == 405


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_confirmation_page_in_chromium(page, make_user, flow):
    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    run = processed_run(flow)
    make_user("bea", groups=["back-office"])
    page.goto(f"/statements/{run.pk}/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**/statements/{run.pk}/")
    # The draft review pages first: every card fits a laptop and a phone without scrolling sideways.
    page.click("#review-statements")
    page.wait_for_url(f"**/statements/{run.pk}/royalties/")
    for url in (page.url, page.url + f"{ana.pk}/"):
        page.goto(url)
        for width, height in ((1280, 800), (375, 740)):
            page.set_viewport_size({"width": width, "height": height})
            assert cards_scrolling_sideways(page) == [], (url, width)
    page.goto(f"/statements/{run.pk}/")
    page.click("#finalize")
    page.wait_for_url(f"**/statements/{run.pk}/finalize/")
    assert not RoyaltyRun.objects.exists()  # the click only asked for confirmation
    assert page.locator("#total-payees").inner_text() == "1"
    assert "EUR" in page.locator("#total-unmatched").inner_text()
    assert page.locator("#finalize-locks li").count() == 5
    page.click("#confirm-finalize")
    page.wait_for_url(f"**/statements/{run.pk}/")
    assert "Statements finalised as #1." in page.locator(".messages").inner_text()
    assert "Finalised as #1" in page.locator("#royalty-finalized").inner_text()
