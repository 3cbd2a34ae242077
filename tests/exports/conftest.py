import json

import pytest
from botocore.config import Config

from exports.fake_moneybird import FakeMoneybird
from tests.exports.faulty_storage import FaultyStorageProxy
from tests.servers import free_port


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
    # Tests that are not about the rate budget should never wait for it.
    settings.MONEYBIRD_RATE_LIMIT = 100_000
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


def _storage_at(s3_server, bucket: str, endpoint_url: str) -> dict:
    """The bucket's storage reached through `endpoint_url`, failing at once (no retries) when it cannot."""
    storage = s3_server.storage_settings(bucket)
    storage["OPTIONS"] |= {
        "endpoint_url": endpoint_url,
        "client_config": Config(
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 1},
            connect_timeout=2,
            read_timeout=10,
            request_checksum_calculation="when_required",
        ),
    }
    return storage


class StorageSwitch:
    """Points the default storage at a port nobody listens on (down) and back at moto (up)."""

    def __init__(self, settings, s3_server, bucket: str):
        self.settings, self.live = settings, settings.STORAGES["default"]
        self.dead = _storage_at(s3_server, bucket, f"http://127.0.0.1:{free_port()}")

    def down(self) -> None:
        self.settings.STORAGES = {**self.settings.STORAGES, "default": self.dead}

    def up(self) -> None:
        self.settings.STORAGES = {**self.settings.STORAGES, "default": self.live}


@pytest.fixture
def storage(s3_server, s3_storage, settings) -> StorageSwitch:
    return StorageSwitch(settings, s3_server, s3_storage)


@pytest.fixture
def faulty_storage(s3_server, s3_storage, settings):
    """The default storage reached through a proxy whose `fail(method, key)` picks requests to 503."""
    proxy = FaultyStorageProxy(s3_server.port)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": _storage_at(s3_server, s3_storage, proxy.endpoint_url),
    }
    yield proxy
    proxy.close()
