"""Which Moneybird token a call uses: see exports/api.py."""

import pytest

from exports.models import Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_client(client, make_user):
    client.force_login(make_user("clerk", groups=["back-office"]))
    return client


def test_our_token_with_x_moneybird_token_uses_that_header(moneybird, client_api, settings):
    settings.MONEYBIRD_TOKEN = "stale"
    assert client_api.get("/api/exports/sync", HTTP_X_MONEYBIRD_TOKEN=moneybird.token).status_code == 200


def test_our_token_without_header_uses_settings(moneybird, client_api):
    assert client_api.get("/api/exports/sync").status_code == 200


def test_session_bearer_is_the_moneybird_token(moneybird, session_client, settings):
    settings.MONEYBIRD_TOKEN = ""
    moneybird.add()
    ok = session_client.get("/api/exports/sync", HTTP_AUTHORIZATION=f"Bearer {moneybird.token}")
    assert ok.status_code == 200 and Document.objects.count() == 1
    refused = session_client.get("/api/exports/sync", HTTP_AUTHORIZATION="Bearer wrong")
    assert refused.status_code == 401


def test_no_token_anywhere_is_a_clear_400(moneybird, session_client, settings):
    settings.MONEYBIRD_TOKEN = ""
    response = session_client.get("/api/exports/sync")
    assert response.status_code == 400
    assert "Moneybird token" in response.json()["error"]["message"]
