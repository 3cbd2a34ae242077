"""The payee portal in headless Chromium, English and Italian, at 1280 and 375 px: a payee logs in
through the login form and lands on the portal; no page scrolls sideways, no card overflows, and
in each chart no label overlaps another label or its value. Screenshots in tests/artifacts/."""

import pytest
from django.contrib.auth.models import Group

from project.roles import PAYEES
from statements.models import ImportProfile
from statements.royalties import payments, services
from statements.royalties.models import Payee
from statements.royalties.portal.models import PortalAccount
from tests.statements.test_browser_run_page import cards_scrolling_sideways
from tests.statements.test_royalties import HEADER, ISRC, contract, payee, processed_run

FIRST = HEADER + (
    f"2026-09,Spotify,Ana,{ISRC},,Song,NL,1000,30.00,EUR,stream\n"
    f"2026-09,YouTube Music Premium Subscriptions,Ana,{ISRC},,Song,BR,100,10.00,EUR,stream\n"
    f"2026-09,Amazon Music Unlimited,Ana,{ISRC},,Song,US,100,7.00,EUR,stream\n"
)
SECOND = HEADER + f"2026-10,Spotify,Ana,{ISRC},,Song,IT,500,20.00,EUR,stream\n"
LANGUAGES = {"en": "en-GB", "it": "it-IT"}

# For each chart: pairs of boxes (labels, values) that intersect.
OVERLAPS = """
() => {
  const box = el => el.getBoundingClientRect();
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const found = [];
  for (const chart of document.querySelectorAll('.hbars')) {
    const texts = [...chart.querySelectorAll('.name, .value')];
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++)
        if (meet(box(texts[i]), box(texts[j]))) found.push(chart.id + ': ' + texts[i].textContent + ' / ' + texts[j].textContent);
  }
  return found;
}
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_portal_in_both_languages_at_1280_and_375_px(
    browser, live_server, flow, make_user, artifacts_dir
):
    ImportProfile.objects.load_builtin()  # a transactional test before may have flushed them
    ana = payee(
        "Ana Lima",
        email="ana@example.com",
        self_billing=True,
        country="IT",
        vat_status="registered",
        payment_method="iban",
        iban="DE89370400440532013000",
        withholding_rate=20,
    )
    contract(shares=[(ana, "100")])
    first = services.finalize_run(run=processed_run(flow, FIRST))
    services.finalize_run(run=processed_run(flow, SECOND))
    # A paid batch: the payments table with every column (VAT on top, withheld, paid).
    payments.mark_batch_paid(batch=payments.create_batch(runs=[first], by_user=None), by_user=None)
    user = make_user("ana@example.com")
    user.groups.add(Group.objects.get_or_create(name=PAYEES)[0])
    PortalAccount.objects.create(user=user, payee=ana, invited_at="2026-12-01T10:00Z")
    problems = []
    for language, locale in LANGUAGES.items():
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.goto("/")
        page.fill("#id_username", "ana@example.com")
        page.fill("#id_password", "pw-ana@example.com-123")
        page.press("#id_password", "Enter")
        page.wait_for_url("**/portal/")
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in (
                ("home", "/portal/"),
                ("statement", f"/portal/statements/{first.run_id}/"),
                ("payment-details", "/portal/payment-details/"),
            ):
                page.goto(path)
                where = f"{name} {language} {width}px"
                if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                    problems.append(f"{where}: the page scrolls sideways")
                problems += [f"{where}: card {card} overflows" for card in cards_scrolling_sideways(page)]
                problems += [f"{where}: {overlap}" for overlap in page.evaluate(OVERLAPS)]
                page.screenshot(path=artifacts_dir / f"portal-{name}-{language}-{width}.png", full_page=True)
        if language == "it":
            page.goto("/portal/")
            assert "I tuoi rendiconti" in page.inner_text("nav.portal-nav")
            # Once the payee is no longer active, the portal says access has ended.
            Payee.objects.filter(pk=ana.pk).update(active=False)
            assert page.goto("/portal/").status == 403
            assert "Il tuo accesso al portale è terminato" in page.inner_text("#error-message")
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                problems.append("access ended it 375px: the page scrolls sideways")
            page.screenshot(path=artifacts_dir / "portal-ended-it-375.png", full_page=True)
        context.close()
    assert problems == []
