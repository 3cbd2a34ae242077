import pytest

from exports.moneybird import (
    MoneybirdAuthError,
    MoneybirdConfigError,
    MoneybirdUnavailable,
    client_from_settings,
)


@pytest.fixture
def client(moneybird):
    return client_from_settings()


def test_sync_list_returns_ids_and_versions(moneybird, client):
    record = moneybird.add("receipt")
    assert client.sync_list("receipt") == [{"id": record["id"], "version": record["version"]}]
    assert client.sync_list("purchase_invoice") == []


def test_fetch_sends_at_most_100_ids_per_request(moneybird, client):
    ids = [moneybird.add()["id"] for _ in range(230)]
    records = client.fetch("purchase_invoice", ids)
    assert sorted(r["id"] for r in records) == sorted(ids)
    assert [len(batch) for batch in moneybird.posts()] == [100, 100, 30]


def test_429_is_retried_honouring_retry_after(moneybird, client):
    moneybird.add()
    moneybird.fail(429, times=2, retry_after="0")
    assert len(client.sync_list("purchase_invoice")) == 1
    assert len(moneybird.requests) == 3


def test_429_retry_after_is_capped_by_settings(moneybird, client):
    moneybird.fail(429, retry_after="3600")
    assert client.sync_list("purchase_invoice") == []  # waited at most MONEYBIRD_MAX_RETRY_WAIT


def test_5xx_is_retried_then_surfaced_after_the_bound(moneybird, client):
    moneybird.fail(503, times=10)
    with pytest.raises(MoneybirdUnavailable, match="after 4 attempts"):
        client.sync_list("receipt")
    assert len(moneybird.requests) == 4


def test_timeout_is_retried(moneybird, settings):
    settings.MONEYBIRD_TIMEOUT = 0.3
    moneybird.fail(200, delay=1.0)
    assert client_from_settings().sync_list("receipt") == []
    assert len(moneybird.requests) == 2


def test_401_is_a_clear_error_and_not_retried(moneybird):
    with pytest.raises(MoneybirdAuthError, match="401"):
        client_from_settings("wrong-token").sync_list("receipt")
    assert len(moneybird.requests) == 1


def test_4xx_other_than_429_is_not_retried(moneybird, client):
    moneybird.fail(404)
    with pytest.raises(MoneybirdUnavailable, match="HTTP 404"):
        client.sync_list("receipt")
    assert len(moneybird.requests) == 1


def test_paginated_lists_follow_the_link_header(moneybird, client):
    assert [rate["id"] for rate in client.tax_rates()] == ["tax-21", "tax-9", "tax-0"]
    assert sum(1 for _, path, _ in moneybird.requests if path.endswith("tax_rates.json")) == 2


def test_missing_token_or_administration_is_a_config_error_naming_the_setting(settings):
    settings.MONEYBIRD_API_URL = "https://moneybird.example/api/v2"
    settings.MONEYBIRD_TOKEN = ""
    with pytest.raises(MoneybirdConfigError, match="MONEYBIRD_TOKEN is not set"):
        client_from_settings()
    settings.MONEYBIRD_ADMINISTRATION_ID = ""
    with pytest.raises(MoneybirdConfigError, match="MONEYBIRD_ADMINISTRATION_ID is not set"):
        client_from_settings("token")


def test_without_an_api_url_the_demo_moneybird_needs_no_setting(settings):
    settings.MONEYBIRD_API_URL = settings.MONEYBIRD_TOKEN = settings.MONEYBIRD_ADMINISTRATION_ID = ""
    client = client_from_settings()
    assert client.base_url == f"http://127.0.0.1:{settings.MONEYBIRD_DEMO_PORT}/api/v2"
