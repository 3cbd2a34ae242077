import json

import pytest

from tests.exports.fake_moneybird import FakeMoneybird


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made in most tests here; real password hashing only slows the suite down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def moneybird(settings):
    """A fake Moneybird on loopback, configured as THE Moneybird (with short retry waits)."""
    fake = FakeMoneybird()
    settings.MONEYBIRD_API_URL = fake.base_url
    settings.MONEYBIRD_ADMINISTRATION_ID = fake.administration_id
    settings.MONEYBIRD_TOKEN = fake.token
    settings.MONEYBIRD_TIMEOUT = 5
    settings.MONEYBIRD_MAX_RETRIES = 3
    settings.MONEYBIRD_RETRY_DELAY = 0.01
    settings.MONEYBIRD_MAX_RETRY_WAIT = 0.05
    yield fake
    fake.close()


@pytest.fixture
def client_api(api_client):
    """A Bearer-token API client of a back-office user (the Moneybird token comes from settings)."""
    return api_client()


@pytest.fixture
def read_summary(s3_server, s3_storage, settings):
    """incoming-summary-list.json as stored in the S3 bucket, or None."""

    def read():
        s3 = s3_server.client()
        try:
            obj = s3.get_object(Bucket=s3_storage, Key=f"{settings.EXPORTS_PREFIX}incoming-summary-list.json")
        except s3.exceptions.NoSuchKey:
            return None
        return json.loads(obj["Body"].read())

    return read


@pytest.fixture
def s3_keys(s3_server, s3_storage):
    def keys() -> list[str]:
        listing = s3_server.client().list_objects_v2(Bucket=s3_storage)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    return keys
