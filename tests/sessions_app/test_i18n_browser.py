"""One language at a time: a browser that asks for Italian gets the pages in Italian, the header
switch changes the language, and the Italian operators' page fits a 375 px screen.

Screenshots go to tests/artifacts/, or to docs/ (the pictures of docs/*.md) with UPDATE_DOCS_SCREENSHOTS=1.
"""

from collections.abc import Iterator

import pytest
from django.utils import timezone

from tests.sessions_app.test_browser_walk import overflowing

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def italian_page(browser, live_server) -> Iterator:
    """A page of a Chromium whose language is Italian: it sends `Accept-Language: it-IT`."""
    context = browser.new_context(
        base_url=live_server.url, locale="it-IT", viewport={"width": 1100, "height": 800}
    )
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    assert page.locator("label[for=id_username]").inner_text().startswith("Nome utente")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-123")
    page.click("main button[type=submit]")


def language_of(page) -> str:
    return page.locator("html").get_attribute("lang")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_operators_page_in_italian_then_english_with_the_header_switch_and_on_a_phone(
    italian_page, make_user, eligible_day, artifacts_dir, docs_screenshots
):
    page = italian_page
    make_user("olga", groups=["operators"])
    day = timezone.localdate().isoformat()

    log_in(page, "olga", "/sessions/")
    page.wait_for_url("**/sessions/")
    assert language_of(page) == "it"
    assert page.locator("h1").first.inner_text() == f"Sessione di spedizione {day}"
    assert page.locator("#status-line").inner_text().startswith(f"Nessuna sessione per il {day}")
    assert page.locator("#start-button").inner_text() == "Avvia sessione"
    assert page.get_by_role("button", name="Controlla FTP ora").is_visible()
    assert page.get_by_role("link", name="Sessioni di spedizione").is_visible()
    assert page.locator("#past h2").inner_text() == "Sessioni precedenti"
    page.screenshot(path=str(docs_screenshots / "sessions-it.png"), full_page=True)

    page.click("header form.language button[value=en]")
    page.wait_for_url("**/sessions/")
    assert language_of(page) == "en"
    assert page.locator("h1").first.inner_text() == f"Shipping session {day}"
    assert page.locator("#start-button").inner_text() == "Start session"
    page.goto("/sessions/")  # the choice is kept (language cookie) although the browser asks for Italian
    assert language_of(page) == "en"

    page.click("header form.language button[value=it]")
    page.wait_for_url("**/sessions/")
    assert language_of(page) == "it"
    page.set_viewport_size(PHONE)
    page.goto("/sessions/")
    assert page.locator("header form.language button[value=en]").is_visible()
    assert overflowing(page) == []
    page.screenshot(path=str(artifacts_dir / "sessions-it-phone.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_statements_page_in_italian(italian_page, make_user, artifacts_dir):
    page = italian_page
    make_user("bea", groups=["back-office"])

    log_in(page, "bea", "/statements/")
    page.wait_for_url("**/statements/")
    assert language_of(page) == "it"
    assert page.locator("h1").first.inner_text() == "Elaborazioni dei rendiconti royalty"
    assert page.get_by_role("button", name="Crea l'elaborazione").is_visible()
    assert page.locator("label[for=id_currency]").inner_text().startswith("Valuta del rendiconto")
    page.set_viewport_size(PHONE)
    page.goto("/statements/")
    assert overflowing(page) == []
    page.screenshot(path=str(artifacts_dir / "statements-it-phone.png"), full_page=True)
