"""A contract's scope picked from the catalogue in the admin, in headless Chromium: a track found
by its title, an ISRC the catalogue does not know typed by hand, an artist picked; the contract
saves them as its lists. English and Italian at 1280 and 375 px (screenshots in tests/artifacts/)."""

import pytest

from statements.royalties.models import Contract, Release, Track


def pick(page, field: str, typed: str, choose: str | None = None) -> None:
    """Type into a scope field's select2 box and take the suggestion `choose` (else what was typed)."""
    page.locator(f"#id_{field} + .select2 .select2-search__field").click()
    page.keyboard.type(typed)
    option = page.locator(".select2-results__option", has_text=choose or typed).first
    option.wait_for()
    option.click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_contract_scope_is_picked_from_the_catalogue(browser, live_server, make_user, artifacts_dir):
    user = make_user("ada", staff=True)
    user.is_superuser = True
    user.save()
    release = Release.objects.create(upc="8712345678901", title="Synchronschwimmer", artists="Seelenluft")
    Track.objects.create(isrc="NLA012600001", title="Manila", artists="Seelenluft", release=release)
    for language, width in (("en", 1280), ("it", 375)):
        context = browser.new_context(
            base_url=live_server.url,
            locale="it-IT" if language == "it" else "en-US",
            viewport={"width": width, "height": 900},
        )
        page = context.new_page()
        page.goto("/admin/login/?next=/admin/statements/contract/add/")
        page.fill("#id_username", "ada")
        page.fill("#id_password", "pw-ada-123")
        page.press("#id_password", "Enter")
        page.wait_for_url("**/contract/add/")
        assert page.locator("textarea").count() == 0  # no JSON (or any list) typed in a text area
        pick(page, "isrcs", "manila", "NLA012600001 · Seelenluft · Manila")
        pick(page, "isrcs", "nla012600777")
        pick(page, "artists", "seelen", "Seelenluft")
        pick(page, "upcs", "Synchron", "8712345678901")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(
            path=str(artifacts_dir / f"royalty-contract-scope-{language}-{width}.png"), full_page=True
        )
        if language == "en":
            page.fill("#id_name", "Seelenluft deal")
            for rate in ("stream", "download", "physical", "other"):
                page.fill(f"#id_rate_{rate}", "20")
            page.click("input[name=_save]")
            page.wait_for_url("**/statements/contract/")
        context.close()
    contract = Contract.objects.get(name="Seelenluft deal")
    assert contract.isrcs == ["NLA012600001", "NLA012600777"]
    assert contract.artists == ["Seelenluft"] and contract.upcs == ["8712345678901"]
