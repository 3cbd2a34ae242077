import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exports.fake_moneybird import detail
from exports.models import Document, ExportFile, Mutation, SyncRun
from exports.moneybird import client_from_settings
from exports.sync import sync_documents

pytestmark = pytest.mark.django_db


def sync(client_api, **headers):
    return client_api.get("/api/exports/sync", **headers)


def export(client_api, ids, **body):
    return client_api.post("/api/exports/export", {"ids": ids, **body}, content_type="application/json")


def entry(summary, doc_id):
    return next(item for item in summary if item["id"] == doc_id)


def test_first_sync_stores_documents_and_publishes_the_summary(moneybird, client_api, read_summary):
    invoice = moneybird.add("purchase_invoice", state="open", date="2026-10-31")
    receipt = moneybird.add("receipt", state="paid")
    moneybird.add("purchase_invoice", state="new")  # a draft

    response = sync(client_api)

    assert response.status_code == 200
    assert Document.objects.count() == 3
    stored = Document.objects.get(moneybird_id=invoice["id"])
    assert (stored.type, stored.status, str(stored.invoice_date)) == (
        "purchase_invoice",
        "open",
        "2026-10-31",
    )
    assert str(stored.total_incl_tax) == "121.00" and stored.contact == "Acme Supplies BV"
    expected = [
        {
            "id": invoice["id"],
            "type": "purchase_invoice",
            "createDate": "2026-11-02T10:00:00.000Z",
            "invoiceDate": "2026-10-31",
            "status": "open",
            "allFiles": [],
            "mutations": [],
        },
        {
            "id": receipt["id"],
            "type": "receipt",
            "createDate": "2026-11-02T10:00:00.000Z",
            "invoiceDate": "2026-11-02",
            "status": "paid",
            "allFiles": [],
            "mutations": [],
        },
    ]
    assert response.json() == expected
    assert read_summary() == expected


def test_sync_without_changes_fetches_nothing_and_only_records_the_sync(
    moneybird, client_api, read_summary, s3_server, s3_storage, settings
):
    moneybird.add()
    sync(client_api)
    key = f"{settings.EXPORTS_PREFIX}incoming-summary-list.json"
    etag = s3_server.client().head_object(Bucket=s3_storage, Key=key)["LastModified"]
    moneybird.requests.clear()

    with CaptureQueriesContext(connection) as queries:
        assert sync_documents(client=client_from_settings()).changed is False
    tables = {
        q["sql"].split('"')[1] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}
    }

    assert tables == {"exports_syncrun", "exports_pendingsync"}  # no document, mutation or export
    assert moneybird.posts() == []
    assert SyncRun.objects.filter(status="done").count() == 2
    assert s3_server.client().head_object(Bucket=s3_storage, Key=key)["LastModified"] == etag


def test_sync_date_advances_on_every_successful_sync_and_not_on_a_failed_one(moneybird, client_api):
    moneybird.add()
    sync(client_api)
    first = client_api.get("/api/exports/export").json()["syncDate"]

    assert sync(client_api).status_code == 200  # no changes
    second = client_api.get("/api/exports/export").json()["syncDate"]
    moneybird.fail(503, times=10)
    assert sync(client_api).status_code == 502
    third = client_api.get("/api/exports/export").json()["syncDate"]

    assert first < second == third


def test_stored_version_comes_from_the_synchronization_list(moneybird, client_api):
    record = moneybird.add()
    # Older API answers carry no version in the record itself; the list always has it.
    moneybird.documents["purchase_invoice"][record["id"]].pop("version")
    moneybird.documents["purchase_invoice"][record["id"]]["version"] = 7

    sync(client_api)
    assert Document.objects.get().version == 7
    moneybird.requests.clear()

    sync(client_api)
    assert moneybird.posts() == []  # not fetched again


def test_changes_of_exported_documents_are_mutations(moneybird, client_api):
    exported = moneybird.add(state="open", date="2026-11-01")
    other = moneybird.add(state="open")
    sync(client_api)
    assert export(client_api, [exported["id"]]).status_code == 200

    moneybird.change(exported["id"], state="paid", date="2026-11-05")
    moneybird.change(other["id"], state="paid")
    summary = sync(client_api).json()

    assert entry(summary, exported["id"])["mutations"] == [
        {"fieldName": "status", "oldValue": "open", "newValue": "paid"},
        {"fieldName": "invoiceDate", "oldValue": "2026-11-01", "newValue": "2026-11-05"},
    ]
    assert entry(summary, other["id"])["mutations"] == []  # never exported: not tracked
    assert entry(summary, other["id"])["status"] == "paid"


def test_version_bump_without_tracked_change_is_one_other_mutation(moneybird, client_api):
    record = moneybird.add()
    sync(client_api)
    export(client_api, [record["id"]])
    moneybird.change(record["id"], reference="changed reference")

    summary = sync(client_api).json()

    assert entry(summary, record["id"])["mutations"] == [{"fieldName": "other"}]


def test_type_change_of_an_exported_document_is_a_type_mutation(moneybird, client_api):
    record = moneybird.add("purchase_invoice")
    sync(client_api)
    export(client_api, [record["id"]])
    moneybird.move(record["id"], "receipt")

    item = entry(sync(client_api).json(), record["id"])

    assert item["type"] == "receipt"
    assert item["mutations"] == [{"fieldName": "type", "newValue": "receipt"}]


def test_new_export_clears_mutations_and_nolog_export_keeps_them(moneybird, client_api):
    record = moneybird.add(state="open")
    sync(client_api)
    export(client_api, [record["id"]])
    moneybird.change(record["id"], state="paid")
    sync(client_api)

    after_nolog = export(client_api, [record["id"]], noLog=True).json()
    assert entry(after_nolog, record["id"])["mutations"] == [
        {"fieldName": "status", "oldValue": "open", "newValue": "paid"}
    ]

    after_logged = export(client_api, [record["id"]], ext="again").json()
    item = entry(after_logged, record["id"])
    assert item["mutations"] == []
    assert item["fileName"].endswith("-again.xlsx")
    assert Mutation.objects.get().cleared_by.name == item["fileName"]


def test_documents_deleted_in_moneybird_stay_in_the_summary_as_deleted(moneybird, client_api):
    kept, gone, exported = moneybird.add(), moneybird.add(), moneybird.add(state="paid")
    sync(client_api)
    name = export(client_api, [exported["id"]])["X-Export-File"]
    moneybird.remove(gone["id"])
    moneybird.remove(exported["id"])

    summary = sync(client_api).json()

    assert [item["id"] for item in summary] == [kept["id"], gone["id"], exported["id"]]
    assert entry(summary, kept["id"])["status"] == "open"
    deleted = entry(summary, exported["id"])
    assert deleted["status"] == "deleted" and deleted["fileName"] == name
    assert deleted["mutations"] == [{"fieldName": "deleted", "oldValue": "paid", "newValue": "deleted"}]
    assert deleted["deletedAt"] == Document.objects.get(moneybird_id=exported["id"]).removed_at.isoformat(
        timespec="milliseconds"
    ).replace("+00:00", "Z")
    never_exported = entry(summary, gone["id"])
    assert never_exported["status"] == "deleted" and never_exported["mutations"] == []
    from exports import selectors

    assert [d.moneybird_id for d in selectors.not_exported_documents()] == [kept["id"]]
    assert [d.moneybird_id for d in selectors.mutated_documents()] == [exported["id"]]


def test_a_version_bump_records_the_money_fields_that_changed(moneybird, client_api):
    record = moneybird.add(details=[detail(1, price="100.0"), detail(2, price="50.0", tax_rate_id="tax-9")])
    sync(client_api)
    export(client_api, [record["id"]])
    lines = [
        detail(1, price="120.0", ledger_account_id="led-4100"),
        detail(2, price="50.0", tax_rate_id="tax-21"),
    ]
    moneybird.change(record["id"], details=lines, total_price_excl_tax="170.0", total_price_incl_tax="205.7")

    summary = sync(client_api).json()

    assert entry(summary, record["id"])["mutations"] == [
        {"fieldName": "total", "oldValue": "121.00", "newValue": "205.70"},
        {"fieldName": "tax", "oldValue": "21.00", "newValue": "35.70"},
        {"fieldName": "detailAmount", "detail": "det-1", "oldValue": "100.00", "newValue": "120.00"},
        {"fieldName": "ledgerAccount", "detail": "det-1", "oldValue": "led-4000", "newValue": "led-4100"},
        {"fieldName": "taxRate", "detail": "det-2", "oldValue": "tax-9", "newValue": "tax-21"},
    ]


def test_partial_failure_leaves_the_previous_state_intact(moneybird, client_api, read_summary):
    first = [moneybird.add() for _ in range(3)]
    sync(client_api)
    before = read_summary()
    for record in first:
        moneybird.change(record["id"], state="paid")
    new = [moneybird.add() for _ in range(150)]
    moneybird.fail_post_containing = new[-1]["id"]  # the second batch keeps failing

    response = sync(client_api)

    assert response.status_code == 502
    assert "unavailable" in response.json()["error"]["message"]
    assert Document.objects.count() == 3
    assert set(Document.objects.values_list("status", flat=True)) == {"open"}
    assert read_summary() == before

    moneybird.fail_post_containing = None
    assert len(sync(client_api).json()) == 153


def test_failure_while_storing_rolls_back(moneybird, client_api, settings, read_summary):
    moneybird.add()
    sync(client_api)
    moneybird.add()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket"},
        },
    }

    with pytest.raises(Exception):
        sync_documents(client=client_from_settings())

    assert Document.objects.count() == 1
    assert SyncRun.objects.filter(status="done").count() == 1
    failed = SyncRun.objects.get(status="failed")
    assert (failed.processed, failed.total) == (1, 1)


def test_moneybird_401_is_surfaced_to_the_caller(moneybird, client_api):
    response = sync(client_api, HTTP_X_MONEYBIRD_TOKEN="wrong")
    assert response.status_code == 401
    assert "Moneybird refused the token" in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == "moneybird_token_refused"
    assert Document.objects.count() == 0 and ExportFile.objects.count() == 0


def test_429_during_sync_is_retried(moneybird, client_api):
    moneybird.add()
    moneybird.fail(429, times=2, retry_after="0")
    response = sync(client_api)
    assert response.status_code == 200 and len(response.json()) == 1


def test_a_second_concurrent_sync_is_refused(moneybird, client_api):
    import psycopg2

    from exports.sync import SYNC_LOCK_KEY

    moneybird.add()
    db = connection.settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [SYNC_LOCK_KEY])
        response = sync(client_api)
        assert response.status_code == 409
        assert "Another Moneybird sync is running" in response.json()["error"]["message"]
        assert response.json()["error"]["code"] == "sync_running"
        # Released before the next sync: a closed connection's backend lets go of its locks a
        # moment after the client has gone, which a sync right after may still meet.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])
    finally:
        other.close()
    assert sync(client_api).status_code == 200
