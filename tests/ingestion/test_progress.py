"""Progress of a running import: recorded every INGESTION_PROGRESS_EVERY records through a second
connection, so it is visible outside the import's transaction; removed when the import ends."""

import pytest
from django.db import connections

from ingestion.models import ImportProgress, InvoiceFile
from ingestion.services import ingest_bytes
from tests.ingestion.conftest import content, file_name

SEVEN = content(*(f"60000000{n}|1|Toys|1.00" for n in range(1, 8)))


def seen_from_another_connection(name: str) -> tuple:
    """(processed, total) of the progress row and whether the file is visible, as an outsider sees them."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT processed, total FROM ingestion_importprogress WHERE name = %s", [name])
            progress = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM ingestion_invoicefile WHERE name = %s", [name])
            return progress, cursor.fetchone()[0] == 1
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_another_connection_sees_the_progress_while_the_import_runs(settings):
    settings.INGESTION_PROGRESS_EVERY = 2
    seen = []

    def on_progress(name, processed, total):
        seen.append(((processed, total), seen_from_another_connection(name)))

    report = ingest_bytes(name=file_name(7), content=SEVEN, source="manual", on_progress=on_progress)

    assert report.status == "imported"
    # Every step is in the database for everyone, while the file itself is not committed yet.
    assert seen == [
        ((2, 7), ((2, 7), False)),
        ((4, 7), ((4, 7), False)),
        ((6, 7), ((6, 7), False)),
        ((7, 7), ((7, 7), False)),
    ]
    assert seen_from_another_connection(file_name(7)) == (None, True)
    assert not ImportProgress.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_import_leaves_neither_the_file_nor_its_progress_row(settings):
    settings.INGESTION_PROGRESS_EVERY = 3

    def crash(name, processed, total):
        assert seen_from_another_connection(name) == ((3, 7), False)
        raise RuntimeError("worker died")

    # Raised inside COPY's read(), psycopg2 reports it as the COPY's failure.
    with pytest.raises(Exception, match="worker died"):
        ingest_bytes(name=file_name(7), content=SEVEN, source="manual", on_progress=crash)

    assert not InvoiceFile.objects.exists() and not ImportProgress.objects.exists()
    assert ingest_bytes(name=file_name(7), content=SEVEN, source="manual").status == "imported"


@pytest.mark.django_db(transaction=True)  # the crashed attempt's row is committed
def test_a_row_left_by_a_crashed_attempt_is_taken_over_and_removed():
    from django.utils import timezone

    ImportProgress.objects.create(
        name=file_name(7), processed=5, total=9, started_at=timezone.now(), updated_at=timezone.now()
    )
    ingest_bytes(name=file_name(7), content=SEVEN, source="manual")
    assert not ImportProgress.objects.exists()


@pytest.mark.django_db
def test_rejected_and_duplicate_files_record_no_progress(settings):
    settings.INGESTION_PROGRESS_EVERY = 1
    calls = []
    record = lambda *args: calls.append(args)  # noqa: E731
    ingest_bytes(name=file_name(8), content=SEVEN, source="manual", on_progress=record)
    ingest_bytes(name=file_name(7), content=SEVEN, source="manual")
    ingest_bytes(name=file_name(7), content=SEVEN, source="manual", on_progress=record)
    assert calls == [] and not ImportProgress.objects.exists()
