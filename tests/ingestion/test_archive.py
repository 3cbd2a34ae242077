"""The archive copy always holds the bytes of the import that won the file's name."""

import hashlib
import threading
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from ingestion.models import InvoiceFile
from ingestion.services import archive_path, ingest_bytes
from tests.ingestion.conftest import content, file_name

FIRST = content("600000001|1|Toys|1.00", "600000002|1|Toys|2.00")
SECOND = content("600000001|1|Toys|9.00", "600000002|1|Toys|9.00")


def archived(name: str) -> bytes:
    with default_storage.open(archive_path(name=name, business_date=timezone.localdate())) as handle:
        return handle.read()


def in_thread(target, outcome: dict, key: str) -> threading.Thread:
    def run():
        try:
            outcome[key] = target()
        except Exception as exc:  # reported by the test's assertions
            outcome[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_for(condition, *, attempts: int = 600) -> None:
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def blocked_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_one_name_leave_the_winners_bytes_archived(settings):
    settings.INGESTION_PROGRESS_EVERY = 1
    name = file_name(2)
    claimed, release = threading.Event(), threading.Event()

    def hold(*_):  # the first import pauses mid-way, holding the name
        claimed.set()
        release.wait(30)

    outcome: dict = {}
    first = in_thread(
        lambda: ingest_bytes(name=name, content=FIRST, source="ftp", on_progress=hold), outcome, "first"
    )
    try:
        assert claimed.wait(30)
        second = in_thread(
            lambda: ingest_bytes(name=name, content=SECOND, source="manual"), outcome, "second"
        )
        wait_for(lambda: blocked_backends() > 0)  # the second import waits for the name
        assert archived(name) == FIRST  # … and has not touched the archive
    finally:
        release.set()
    first.join(30)
    second.join(30)

    assert outcome["first"].status == "imported"
    assert outcome["second"].status == "duplicate" and outcome["second"].file.name == name
    assert archived(name) == FIRST
    assert InvoiceFile.objects.get().sha256 == hashlib.sha256(FIRST).hexdigest()


@pytest.mark.django_db
def test_a_copy_left_by_an_attempt_that_did_not_commit_is_replaced():
    name = file_name(2)
    default_storage.save(archive_path(name=name, business_date=timezone.localdate()), ContentFile(FIRST))
    report = ingest_bytes(name=name, content=SECOND, source="manual")
    assert report.status == "imported" and report.file.archive_path.endswith(f"/{name}")
    assert archived(name) == SECOND
