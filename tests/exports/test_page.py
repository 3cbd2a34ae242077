import pytest
from django.test import Client

from exports.models import ExportFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("clerk", groups=["back-office"]))
    return client


def csrf_post(client, path, data):
    """Post like the browser does: with the CSRF token of the page's forms."""
    page = client.get("/exports/")
    return client.post(path, {**data, "csrfmiddlewaretoken": page.context["csrf_token"]}, follow=True)


def test_page_needs_back_office_or_staff(client, make_user):
    assert client.get("/exports/").status_code == 302
    client.force_login(make_user("operator", groups=["operators"]))
    assert client.get("/exports/").status_code == 403
    client.force_login(make_user("boss", staff=True))
    assert client.get("/exports/").status_code == 200


def test_forms_require_csrf(clerk, moneybird):
    assert clerk.post("/exports/sync/").status_code == 403


def test_sync_export_and_delete_from_the_page(clerk, moneybird, s3_storage, s3_keys):
    old = moneybird.add(date="2026-01-15", created_at="2026-01-15T08:00:00.000Z")
    recent = moneybird.add(date="2026-11-15")

    page = csrf_post(clerk, "/exports/sync/", {})
    assert "2 new" in page.content.decode()

    filtered = clerk.get("/exports/", {"invoice_from": "2026-11-01"})
    assert recent["id"] in filtered.content.decode() and old["id"] not in filtered.content.decode()
    assert filtered.context["pending_ranges"]["count"] == 1

    page = csrf_post(clerk, "/exports/export/", {"ids": [old["id"]], "ext": "q1"})
    export_file = ExportFile.objects.get()
    assert f"Created {export_file.name}" in page.content.decode()
    assert f"exports/{export_file.name}" in s3_keys()
    assert [d.moneybird_id for d in page.context["pending"]] == [recent["id"]]
    assert "/api/exports/files?filename=" in page.content.decode()

    moneybird.change(old["id"], state="paid")
    page = csrf_post(clerk, "/exports/sync/", {})
    assert [d.moneybird_id for d, _ in page.context["mutated"]] == [old["id"]]
    assert page.context["export_files"][0].mutated == 1

    page = csrf_post(clerk, "/exports/delete/", {"filename": export_file.name})
    assert "can be exported again" in page.content.decode()
    assert f"exports/{export_file.name}" not in s3_keys()
    assert {d.moneybird_id for d in page.context["pending"]} == {old["id"], recent["id"]}


def messages_of(page) -> list[str]:
    return [str(message) for message in page.context["messages"]]


def test_export_without_selection_says_so_in_a_plain_sentence(clerk, moneybird, s3_storage):
    page = csrf_post(clerk, "/exports/export/", {"ext": ""})
    assert messages_of(page) == ["Select at least one document to export."]
    assert ExportFile.objects.count() == 0


def test_a_bad_name_suffix_is_explained_in_the_pages_words(clerk, moneybird, s3_storage):
    record = moneybird.add()
    csrf_post(clerk, "/exports/sync/", {})
    page = csrf_post(clerk, "/exports/export/", {"ids": [record["id"]], "ext": "../q4"})
    [message] = messages_of(page)
    assert message.startswith("The name suffix may only hold letters, digits")
    assert "ext" not in message.split() and ExportFile.objects.count() == 0


def test_the_name_suffix_is_explained_and_its_spaces_become_hyphens(clerk, moneybird, s3_storage):
    record = moneybird.add()
    csrf_post(clerk, "/exports/sync/", {})
    html = clerk.get("/exports/").content.decode()
    assert 'aria-describedby="id_ext_helptext"' in html and "added to the file" in html

    csrf_post(clerk, "/exports/export/", {"ids": [record["id"]], "ext": "week 45"})
    name = ExportFile.objects.get().name
    assert " " not in name and name.endswith("-week-45.xlsx")


def test_changes_since_the_export_are_described_in_words(clerk, moneybird, s3_storage):
    from decimal import Decimal

    from exports.fake_moneybird import detail

    lines = [detail(1, price="100.00"), detail(2, price="249.90")]
    record = moneybird.add(details=lines, **moneybird.totals(lines))
    csrf_post(clerk, "/exports/sync/", {})
    csrf_post(clerk, "/exports/export/", {"ids": [record["id"]]})
    before = Decimal(record["total_price_incl_tax"])

    changed = [lines[0], detail(2, price="349.90", ledger_account_id="led-4100")]
    moneybird.change(record["id"], details=changed, state="paid", **moneybird.totals(changed))
    page = csrf_post(clerk, "/exports/sync/", {})

    [(document, changes)] = page.context["mutated"]
    assert document.moneybird_id == record["id"]
    after = before + Decimal("100.00") * Decimal("1.21")  # line 2 grew by 100.00 at 21 % tax
    assert changes == [
        "status open → paid",
        f"total {before:.2f} → {after:.2f} EUR",
        "tax 73.48 → 94.48 EUR",  # 21 % of 349.90 and of 449.90, to the cent
        "line 2 amount 249.90 → 349.90 EUR",
        "line 2 ledger account led-4000 → led-4100",
    ]
    html = page.content.decode()
    assert "line 2 amount 249.90 → 349.90 EUR" in html and "detailAmount" not in html
    clerk.cookies["django_language"] = "it"
    assert "riga 2 importo 249.90 → 349.90 EUR" in clerk.get("/exports/").content.decode()


def test_download_link_serves_the_file_to_the_session(clerk, moneybird, s3_storage):
    record = moneybird.add()
    csrf_post(clerk, "/exports/sync/", {})
    csrf_post(clerk, "/exports/export/", {"ids": [record["id"]]})
    name = ExportFile.objects.get().name
    response = clerk.get("/api/exports/files", {"filename": name})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_a_real_configuration_without_token_names_the_missing_setting(clerk, settings):
    settings.MONEYBIRD_API_URL = "https://moneybird.example/api/v2"
    settings.MONEYBIRD_TOKEN = ""
    page = clerk.get("/exports/").content.decode()
    assert "MONEYBIRD_TOKEN is not set" in page
    assert "X-Moneybird-Token" not in page and "send it in" not in page  # never asks for a header
    synced = csrf_post(clerk, "/exports/sync/", {}).content.decode()
    assert "Sync not possible: No Moneybird token: MONEYBIRD_TOKEN is not set." in synced


def test_the_page_shows_a_running_sync_s_progress(clerk, moneybird):
    from exports.models import SyncRun

    SyncRun.objects.create(total=10_000, processed=2_300)
    page = clerk.get("/exports/").content.decode()
    assert 'fetched <span id="sync-processed">2300</span> of <span id="sync-total">10000</span>' in page
    assert clerk.get("/exports/progress/").json() == {"running": True, "processed": 2300, "total": 10000}
