import pytest

from exports.fake_moneybird import FakeMoneybird, detail
from exports.models import Document, SyncRun
from exports.moneybird import client_from_settings
from exports.sync import sync_documents

pytestmark = pytest.mark.django_db

# Moneybird allows 150 requests per 300 s; the same budget scaled down so the test takes seconds.
LIMIT, WINDOW = 25, 1.0


@pytest.fixture
def limited(settings, s3_storage):
    fake = FakeMoneybird(rate_limit=LIMIT, rate_window=WINDOW)
    settings.MONEYBIRD_API_URL = fake.base_url
    settings.MONEYBIRD_ADMINISTRATION_ID = fake.administration_id
    settings.MONEYBIRD_TOKEN = fake.token
    settings.MONEYBIRD_RETRY_DELAY = 0.01
    settings.MONEYBIRD_RATE_LIMIT, settings.MONEYBIRD_RATE_WINDOW = LIMIT, WINDOW
    yield fake
    fake.close()


def test_first_sync_of_10000_documents_stays_within_the_rate_budget(limited):
    for number in range(10_000):
        limited.add("receipt" if number % 5 == 0 else "purchase_invoice", details=[detail(1)])
    seen = []

    result = sync_documents(
        client=client_from_settings(), progress=lambda done, total: seen.append((done, total))
    )

    assert result.created == 10_000 and Document.objects.count() == 10_000
    assert limited.throttled == 0  # never a 429
    usage = limited.window_usage()
    assert max(usage.values()) <= LIMIT, usage
    assert sum(usage.values()) == 2 + 100  # two lists, then batches of 100
    assert len(usage) >= 5  # so it had to slow down
    assert seen[-1] == (10_000, 10_000) and len(seen) == 100
    run = SyncRun.objects.get()
    assert (run.processed, run.total, run.status) == (10_000, 10_000, "done")


def test_a_client_waits_when_moneybird_says_nothing_remains(limited, settings):
    # Another process used the budget: only Moneybird's headers can tell this one.
    settings.MONEYBIRD_RATE_LIMIT = 1000
    for _ in range(LIMIT + 10):
        limited.add()
    client = client_from_settings()
    for _ in range(LIMIT + 5):
        client.sync_list("receipt")
    assert limited.throttled == 0
    assert client.budget.waited > 0
