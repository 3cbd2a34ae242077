"""A PostgreSQL backend killed in the middle of an import: nothing half-imported, nothing lost."""

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from ingestion import pg_copy
from ingestion.models import InvoiceFile, InvoiceLine, InvoiceLineCategory
from ingestion.polling import poll_inbound
from tests.ingestion.conftest import content, file_name, local_datetime

DATA = content(*(f"6{n:08d}|{n % 7}|Toys, Garden|{n}.50" for n in range(1, 2001)))


def terminate_own_backend() -> None:
    """Kill this connection's server process from a second connection, as a crash or failover would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    other = psycopg2.connect(**{key: value for key, value in params.items() if key != "cursor_factory"})
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_backend_killed_mid_ingest_leaves_nothing_and_the_next_tick_imports(inbound_ftp, monkeypatch):
    name = file_name(2000)
    (inbound_ftp.folder / name).write_bytes(DATA)
    real_insert = pg_copy.insert_new_categories

    def crash_between_copies(cursor, categories):
        # Runs after the category links went through COPY and before the lines are copied.
        terminate_own_backend()
        return real_insert(cursor, categories)

    monkeypatch.setattr(pg_copy, "insert_new_categories", crash_between_copies)
    day = timezone.localdate()
    morning = local_datetime(day.year, day.month, day.day, 10, 0)

    first = poll_inbound(now=morning)

    assert first.failed == [name]
    assert (inbound_ftp.folder / name).exists()
    connection.close()  # django-q2 replaces a broken connection before the next task
    assert InvoiceFile.objects.count() == 0
    assert InvoiceLine.objects.count() == 0
    assert InvoiceLineCategory.objects.count() == 0

    monkeypatch.setattr(pg_copy, "insert_new_categories", real_insert)
    second = poll_inbound(now=morning)

    assert second.processed == {name: "imported"}
    assert not (inbound_ftp.folder / name).exists()
    invoice_file = InvoiceFile.objects.get()
    assert invoice_file.imported_count == InvoiceLine.objects.count() == 2000
    assert InvoiceLineCategory.objects.count() == 4000
