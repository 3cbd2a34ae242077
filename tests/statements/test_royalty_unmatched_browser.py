"""The unmatched-income page in headless Chromium: reached from the draft review, a group added to
a contract's scope and another kept as label income through the page's own forms, in English and
Italian at 1280 and 375 px without a sideways scroll (screenshots in tests/artifacts/)."""

import pytest

from statements.models import ImportProfile
from tests.statements.test_browser_run_page import cards_scrolling_sideways
from tests.statements.test_royalty_unmatched import deal, run_of


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_royalty_manager_clears_unmatched_income(browser, live_server, flow, make_user, artifacts_dir):
    make_user("bea", groups=["back-office"])
    ImportProfile.objects.load_builtin()  # a transactional test before may have flushed them
    deal(isrcs=["NLA012600001"])
    run = run_of(flow)
    for language, width in (("it", 1280), ("it", 375), ("en", 375), ("en", 1280)):
        context = browser.new_context(
            base_url=live_server.url,
            locale="it-IT" if language == "it" else "en-US",
            viewport={"width": width, "height": 900},
        )
        page = context.new_page()
        page.goto(f"/accounts/login/?next=/statements/{run.pk}/royalties/")
        page.fill("#id_username", "bea")
        page.fill("#id_password", "pw-bea-123")
        page.press("#id_password", "Enter")
        page.wait_for_url(f"**/statements/{run.pk}/royalties/")
        page.click("#unmatched-link")
        page.wait_for_url("**/royalties/unmatched/")
        assert page.locator("html").get_attribute("lang") == language
        groups = page.locator("tr[data-group]")
        assert groups.count() == 2
        assert "NLA012600009" in groups.first.inner_text()  # 1.69 EUR before 0.07 EUR
        groups.first.locator("summary").click()
        assert cards_scrolling_sideways(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(artifacts_dir / f"royalty-unmatched-{language}-{width}.png"), full_page=True)
        context.close()

    page = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"/accounts/login/?next=/statements/{run.pk}/royalties/unmatched/")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")
    page.wait_for_url("**/royalties/unmatched/")
    first = page.locator("tr[data-group]").first
    first.locator("summary").click()
    first.locator("input[name=contract]").fill("Ana deal")
    with page.expect_navigation():
        first.locator("button.add-to-contract").click()
    assert "NLA012600009 added to contract “Ana deal”." in page.locator(".messages").inner_text()
    assert page.locator("tr[data-group]").count() == 1
    remaining = page.locator("tr[data-group]").first
    remaining.locator("summary").click()
    remaining.locator("input[name=note]").fill("our jingle")
    with page.expect_navigation():
        remaining.locator("button.label-income").click()
    assert page.locator("tr[data-group]").count() == 0
    assert "our jingle" in page.locator("#label-income").inner_text()
    page.screenshot(path=str(artifacts_dir / "royalty-unmatched-cleared.png"), full_page=True)
    page.goto(f"/statements/{run.pk}/royalties/")
    assert "0.07 EUR" in page.locator("#label-income-summary").inner_text()
