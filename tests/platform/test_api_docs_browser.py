"""The APIs' interactive docs in Chromium with every request leaving 127.0.0.1 refused: Swagger UI
still renders each API's operations, from the assets ninja bundles (served by whitenoise), inside
the site's layout (header, sections, language)."""

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("name", ["statements", "exports", "settlement"])
def test_docs_render_offline_inside_the_site_navigation(page, live_server, make_user, artifacts_dir, name):
    elsewhere = []

    def only_local(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    make_user("clerk", groups=["back-office"])
    page.goto(f"/accounts/login/?next=/api/docs/{name}/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "pw-clerk-123")
    page.click("button[type=submit]")
    page.wait_for_selector("main .opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 3
    assert elsewhere == []
    navigation = page.locator("header.top nav")
    assert navigation.is_visible()
    assert "Moneybird exports" in navigation.inner_text()
    page.click("main >> text=JSON APIs")
    page.wait_for_url("**/api/docs/")
    if name == "exports":
        page.go_back()
        page.wait_for_selector("main .opblock")
        page.screenshot(path=artifacts_dir / "api-docs-exports.png", full_page=False)
