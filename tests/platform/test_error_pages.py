"""Styled 403 and 404 pages that say what is missing, the navigation, the favicon."""

import pytest
from django.urls import path

from project.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db


def test_403_says_who_the_page_is_for_with_a_link_back(client, make_user):
    client.force_login(make_user("olga", groups=["operators"]))

    response = client.get("/exports/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "This page is for back-office staff." in html
    assert 'href="/"' in html and "Back to the start page" in html


def test_404_names_the_missing_page_with_a_link_back(client, make_user):
    client.force_login(make_user("olga", groups=["operators"]))

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "There is no page at /no-such-page/." in html and "Back to the start page" in html


def test_404_of_a_view_says_what_is_missing(client, make_user):
    client.force_login(make_user("olga", groups=["operators"]))
    assert "This session has no generated CSV file." in client.get("/sessions/12345/csv/").content.decode()


def test_navigation_lists_only_the_sections_the_user_may_open(client, make_user):
    client.force_login(make_user("olga", groups=["operators"]))
    html = client.get("/sessions/").content.decode()
    nav = html[html.index("<nav") : html.index("</nav>")]
    assert 'href="/sessions/" aria-current="page"' in nav
    assert "/statements/" not in nav and "/exports/" not in nav and "/admin/" not in nav

    client.force_login(make_user("bob", groups=["back-office"]))
    nav = client.get("/").content.decode()
    assert "/statements/" in nav and "/exports/" in nav and "/sessions/" not in nav.split("<main>")[0]


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert '<link rel="icon"' in client.get("/accounts/login/").content.decode()


def _broken_view(request):
    raise RuntimeError("a bug")


# The project's URLs (the error page links home) plus a view with a bug.
urlpatterns = [path("broken/", _broken_view), *project_urlpatterns]


@pytest.mark.urls(__name__)
def test_500_is_the_sites_styled_page_not_djangos_plain_one(client):
    """A bug answers the site's page (its stylesheet, a way back), never Django's bare
    'Server Error (500)'; it is rendered without the request's context, so it cannot fail again."""
    client.raise_request_exception = False
    response = client.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "/static/css/app.css" in html and 'class="card error-page"' in html
    assert "Something went wrong on our side" in html and "Back to the start page" in html
    assert "a bug" not in html and "Traceback" not in html
