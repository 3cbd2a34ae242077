"""The review page's warning about lines not paid again, in headless Chromium, English and Italian at
1280 and 375 px without a sideways scroll; and the Royalties API's docs page (screenshots in
tests/artifacts/)."""

import pytest

from statements.models import ImportProfile
from tests.statements.test_browser_run_page import cards_scrolling_sideways
from tests.statements.test_royalties import SALES, contract, payee
from tests.statements.test_royalties_fingerprint import SAME_CONTENT, run_with


def logged_in(browser, live_server, language: str, width: int, next_url: str):
    context = browser.new_context(
        base_url=live_server.url,
        locale="it-IT" if language == "it" else "en-US",
        viewport={"width": width, "height": 900},
    )
    page = context.new_page()
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("#id_username", "bea")
    page.fill("#id_password", "pw-bea-123")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"**{next_url}")
    return context, page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_review_page_names_the_earlier_file_of_lines_not_paid_again(
    browser, live_server, flow, make_user, artifacts_dir
):
    make_user("bea", groups=["back-office"])
    ImportProfile.objects.load_builtin()  # a transactional test before may have flushed them
    contract(shares=[(payee("Ana"), "100")])
    run, _ = run_with(flow, ("spotify-2026-09.csv", SALES), ("spotify-2026-09 (copy).csv", SAME_CONTENT))
    expected = {"en": "as in spotify-2026-09.csv", "it": "come in spotify-2026-09.csv"}
    for language, width in (("en", 1280), ("en", 375), ("it", 1280), ("it", 375)):
        context, page = logged_in(browser, live_server, language, width, f"/statements/{run.pk}/royalties/")
        warning = page.locator("#duplicate-content")
        assert warning.is_visible()
        assert (
            expected[language] in warning.inner_text()
            and "spotify-2026-09 (copy).csv" in warning.inner_text()
        )
        assert cards_scrolling_sideways(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(
            path=str(artifacts_dir / f"royalty-duplicates-{language}-{width}.png"), full_page=True
        )
        context.close()

    context, page = logged_in(browser, live_server, "en", 1280, "/api/docs/royalties/")
    page.wait_for_selector("text=/api/royalties/ledger/")
    assert "Royalties API" in page.content()
    page.screenshot(path=str(artifacts_dir / "royalties-api-docs.png"))
    context.close()
