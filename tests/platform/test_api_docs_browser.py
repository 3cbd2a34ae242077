"""The APIs' interactive docs in Chromium with every request leaving 127.0.0.1 refused: Swagger UI
still renders each API's operations, from the assets ninja bundles (served by whitenoise)."""

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("name", ["statements", "exports"])
def test_docs_render_offline(page, live_server, name):
    elsewhere = []

    def only_local(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"/api/docs/{name}/")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 3
    assert elsewhere == []
