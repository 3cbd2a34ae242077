"""A payee paid in EUR from a USD run, in headless Chromium at 1280 and 375 px: the staff statement
page and the portal's show both amounts and the rate, and no page or card scrolls sideways.
Screenshots in tests/artifacts/."""

import pytest
from django.contrib.auth.models import Group

from project.roles import PAYEES
from statements.models import ImportProfile
from statements.royalties import services
from statements.royalties.models import Payee
from statements.royalties.portal.models import PortalAccount
from tests.statements.test_browser_run_page import cards_scrolling_sideways
from tests.statements.test_payee_currencies import RATES, usd_run
from tests.statements.test_royalties import contract


def _login(browser, live_server, username: str, landing: str):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(landing)
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-123")
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    return context, page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_statement_pages_show_both_currencies_at_1280_and_375_px(
    browser, live_server, flow, make_user, artifacts_dir
):
    ImportProfile.objects.load_builtin()  # a transactional test before may have flushed them
    eva = Payee.objects.create(name="Eva Moreau", currency="EUR")
    uma = Payee.objects.create(name="Uma", currency="USD")
    contract(shares=[(eva, "60"), (uma, "40")])
    run = usd_run(flow, rates=RATES[:1])
    services.finalize_run(run=run)
    make_user("bea", groups=["back-office"])
    portal_user = make_user("eva@example.com")
    portal_user.groups.add(Group.objects.get_or_create(name=PAYEES)[0])
    PortalAccount.objects.create(user=portal_user, payee=eva, invited_at="2026-12-01T10:00Z")
    problems = []
    for who, username, path in (
        ("staff", "bea", f"/statements/{run.pk}/royalties/{eva.pk}/"),
        ("portal", "eva@example.com", f"/portal/statements/{run.pk}/"),
    ):
        context, page = _login(browser, live_server, username, path)
        page.goto(path)
        assert "1 USD = 0.9234567891 EUR" in page.inner_text("#statement-rate")
        assert "USD" in page.inner_text("#statement-run-earnings")
        assert "EUR" in page.inner_text("#summary")
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            where = f"{who} {width}px"
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                problems.append(f"{where}: the page scrolls sideways")
            problems += [f"{where}: card {card} overflows" for card in cards_scrolling_sideways(page)]
            page.screenshot(path=artifacts_dir / f"payee-currency-{who}-{width}.png", full_page=True)
        if who == "staff":  # the run page's table of payee currency rates, frozen now
            page.goto(f"/statements/{run.pk}/#payee-rates")
            assert "ECB reference rate" in page.inner_html("#rates")
            for width in (1280, 375):
                page.set_viewport_size({"width": width, "height": 900})
                if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                    problems.append(f"run page {width}px: the page scrolls sideways")
                page.locator("#rates").screenshot(
                    path=artifacts_dir / f"payee-currency-run-rates-{width}.png"
                )
        context.close()
    assert problems == []
