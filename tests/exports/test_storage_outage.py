"""A storage (S3) outage during a write: a 503 with a message (or a page message), the database as
it was, and nothing half-written in the bucket. The outage is real: the storage points at a port
nobody listens on, or at a proxy in front of moto that fails chosen requests."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from exports.models import Document, ExportedDocument, ExportFile, Mutation, SyncRun

pytestmark = pytest.mark.django_db
SUMMARY = "exports/incoming-summary-list.json"


def db_state() -> dict:
    return {
        "documents": list(
            Document.objects.order_by("pk").values_list("moneybird_id", "version", "removed_at")
        ),
        "files": list(ExportFile.objects.order_by("pk").values_list("name", "deleted")),
        "links": list(ExportedDocument.objects.order_by("pk").values_list("export_file_id", "document_id")),
        "mutations": list(Mutation.objects.order_by("pk").values_list("pk", "cleared_at")),
    }


@pytest.fixture
def bucket(s3_server, s3_storage):
    """Key -> content of every object in the test bucket, read straight from moto."""

    def objects() -> dict[str, bytes]:
        s3 = s3_server.client()
        listing = s3.list_objects_v2(Bucket=s3_storage).get("Contents", [])
        return {
            item["Key"]: s3.get_object(Bucket=s3_storage, Key=item["Key"])["Body"].read() for item in listing
        }

    return objects


@pytest.fixture
def exported(moneybird, client_api, s3_storage):
    """One synced document exported once, one synced and changed in Moneybird since the last sync."""
    first, second = moneybird.add(), moneybird.add()
    client_api.get("/api/exports/sync")
    name = client_api.post("/api/exports/export", {"ids": [first["id"]]}, content_type="application/json")[
        "X-Export-File"
    ]
    moneybird.change(first["id"], state="paid")
    moneybird.add()
    return {"name": name, "ids": [first["id"], second["id"]]}


def assert_storage_error(response) -> None:
    assert response.status_code == 503
    assert response.json()["error"]["message"].startswith("storage unavailable: ")


def test_sync_during_an_outage_is_503_and_changes_nothing(exported, client_api, storage, bucket):
    before, objects = db_state(), bucket()
    storage.down()

    assert_storage_error(client_api.get("/api/exports/sync"))

    assert db_state() == before and bucket() == objects
    assert SyncRun.objects.latest("started_at").status == SyncRun.Status.FAILED
    storage.up()
    assert client_api.get("/api/exports/sync").status_code == 200
    assert Document.objects.count() == 3 and Mutation.objects.count() == 1


def test_export_during_an_outage_is_503_and_writes_nothing(exported, client_api, storage, bucket):
    before, objects = db_state(), bucket()
    storage.down()

    response = client_api.post(
        "/api/exports/export", {"ids": exported["ids"]}, content_type="application/json"
    )

    assert_storage_error(response)
    assert db_state() == before and bucket() == objects


def test_delete_during_an_outage_is_503_and_keeps_the_export(exported, client_api, storage, bucket):
    before, objects = db_state(), bucket()
    storage.down()

    response = client_api.delete(
        "/api/exports/export", {"filename": exported["name"]}, content_type="application/json"
    )

    assert_storage_error(response)
    assert db_state() == before and bucket() == objects
    storage.up()
    assert (
        client_api.delete(
            "/api/exports/export", {"filename": exported["name"]}, content_type="application/json"
        ).status_code
        == 200
    )


def test_public_files_during_an_outage_are_503(api_client, make_user, storage, bucket):
    staff = api_client(make_user("staff", staff=True))
    staff.post("/api/exports/files", {"filename": "a.txt", "data": "old"}, content_type="application/json")
    objects = bucket()
    storage.down()

    assert_storage_error(
        staff.post(
            "/api/exports/files", {"filename": "a.txt", "data": "new"}, content_type="application/json"
        )
    )
    assert_storage_error(
        staff.post("/api/exports/files", {"filename": "b.txt", "data": "x"}, content_type="application/json")
    )
    assert_storage_error(
        staff.delete("/api/exports/files", {"filename": "a.txt"}, content_type="application/json")
    )
    assert_storage_error(staff.get("/api/exports/files", {"filename": "a.txt"}))
    assert bucket() == objects


def test_page_actions_during_an_outage_show_a_message(exported, make_user, storage, bucket):
    clerk = Client()
    clerk.force_login(make_user("clerk", groups=["back-office"]))
    before, objects = db_state(), bucket()
    storage.down()

    for path, data, prefix in [
        ("/exports/sync/", {}, "Sync failed: storage unavailable"),
        ("/exports/export/", {"ids": exported["ids"]}, "Export failed: storage unavailable"),
        ("/exports/delete/", {"filename": exported["name"]}, "Delete failed: storage unavailable"),
    ]:
        page = clerk.post(path, data, follow=True)
        assert page.status_code == 200
        assert [str(message).startswith(prefix) for message in page.context["messages"]] == [True]

    assert db_state() == before and bucket() == objects


def test_publish_summary_command_reports_an_outage(exported, storage):
    storage.down()
    with pytest.raises(CommandError, match="storage unavailable"):
        call_command("publish_summary")


def test_export_whose_summary_write_fails_leaves_no_file(exported, client_api, faulty_storage, bucket):
    before, objects = db_state(), bucket()
    faulty_storage.fail = lambda method, key: method == "PUT" and key == SUMMARY

    response = client_api.post(
        "/api/exports/export", {"ids": exported["ids"]}, content_type="application/json"
    )

    assert_storage_error(response)
    assert set(faulty_storage.failed) == {("PUT", SUMMARY)}
    assert db_state() == before and bucket() == objects


def test_sync_whose_summary_write_fails_changes_nothing(exported, client_api, faulty_storage, bucket):
    before, objects = db_state(), bucket()
    faulty_storage.fail = lambda method, key: method == "PUT" and key == SUMMARY

    assert_storage_error(client_api.get("/api/exports/sync"))

    assert db_state() == before and bucket() == objects


def test_delete_whose_summary_write_fails_keeps_the_export_and_can_be_retried(
    exported, client_api, faulty_storage, bucket
):
    before = db_state()
    faulty_storage.fail = lambda method, key: method == "PUT" and key == SUMMARY

    def delete():
        return client_api.delete(
            "/api/exports/export", {"filename": exported["name"]}, content_type="application/json"
        )

    assert_storage_error(delete())
    assert db_state() == before
    faulty_storage.fail = lambda method, key: False
    assert delete().status_code == 200
    assert f"exports/{exported['name']}" not in bucket()
    assert ExportFile.objects.get(name=exported["name"]).deleted
