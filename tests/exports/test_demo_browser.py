"""The demo configuration (no MONEYBIRD_API_URL) in Chromium: the demo Moneybird, sync, export,
a change made in "Moneybird" exported as corrections, and a deletion — all from the page."""

import pytest

from exports.fake_moneybird import FakeMoneybird
from exports.models import Document, ExportFile
from tests.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_moneybird(settings, s3_storage):
    settings.MONEYBIRD_API_URL = settings.MONEYBIRD_TOKEN = settings.MONEYBIRD_ADMINISTRATION_ID = ""
    settings.MONEYBIRD_DEMO_PORT = free_port()
    fake = FakeMoneybird(port=settings.MONEYBIRD_DEMO_PORT)
    fake.add_demo_documents()
    yield fake
    fake.close()


def test_demo_sync_export_change_and_delete_from_the_page(page, make_user, demo_moneybird, artifacts_dir):
    make_user("clerk", groups=["back-office"])
    page.goto("/accounts/login/?next=/exports/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "pw-clerk-123")
    page.click("button[type=submit]")
    assert page.locator("#demo-note").is_visible()
    assert page.locator("#config-problem").count() == 0

    page.click("#sync-now")
    page.wait_for_selector("text=25 new")  # 24 documents and a draft (stored, never listed)
    first = page.locator("#pending tbody input").first.get_attribute("value")
    page.check(f"#pending input[value='{first}']")
    page.click("#export-selected")
    page.wait_for_selector("text=with 1 document.")

    page.select_option("#demo-document", first)
    page.click("#demo-amend")
    page.wait_for_selector(f"text=Demo Moneybird: the amount of document {first} changed (+10%).")
    page.click("#sync-now")
    page.wait_for_selector("#mutated >> text=line 1 amount")
    page.check(f"#mutated input[value='{first}']")
    page.check("#id_corrections")
    page.click("#export-selected")
    page.wait_for_selector("text=with 1 document.")
    assert ExportFile.objects.count() == 2
    assert "No changes." in page.locator("#mutated").inner_text()

    page.select_option("#demo-document", first)
    asked = []
    page.once("dialog", lambda dialog: asked.append(dialog.message) or dialog.dismiss())
    page.click("#demo-delete")
    assert asked and "Delete the selected document in Moneybird?" in asked[0]
    assert demo_moneybird.kind_of(first)  # dismissed: still in Moneybird
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#demo-delete")
    page.wait_for_selector(f"text=Demo Moneybird: document {first} deleted.")
    page.click("#sync-now")
    page.wait_for_selector(f"#deleted >> text={first}")
    assert "deleted" in page.locator("#mutated").inner_text()
    assert Document.objects.get(moneybird_id=first).removed_at is not None
    page.screenshot(path=str(artifacts_dir / "exports-demo.png"), full_page=True)
