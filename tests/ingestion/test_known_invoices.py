"""The known-invoices relation: a plain table in tests and the demo, never an existing view touched."""

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

migration = import_module("ingestion.migrations.0002_known_invoices_table")


def test_migration_created_the_table_when_no_relation_existed():
    assert "known_invoices" in connection.introspection.table_names()


def test_migration_leaves_an_existing_view_alone(settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIEW erp_invoices AS SELECT '600000001'::varchar(9) AS invoice_number,"
            " DATE '2099-12-31' AS invoice_date"
        )
    settings.KNOWN_INVOICES_RELATION = "erp_invoices"
    with connection.schema_editor() as editor:
        migration.create_relation_if_missing(apps, editor)
    assert "erp_invoices" in connection.introspection.table_names(include_views=True)
    assert "erp_invoices" not in connection.introspection.table_names(include_views=False)


@pytest.fixture
def customer_view():
    """`known_invoices` replaced (inside the test's transaction) by a view over a table without a
    primary key, as a customer's view may return several rows for one invoice number."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE known_invoices RENAME TO known_invoices_table")
        cursor.execute("CREATE TABLE customer_invoices (LIKE known_invoices_table)")
        cursor.execute("CREATE VIEW known_invoices AS SELECT * FROM customer_invoices")

    def add(number: str, day: str, code: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO customer_invoices (invoice_number, invoice_date, customer_code, customer_name)"
                " VALUES (%s, %s, %s, %s)",
                [number, day, code, f"name {code}"],
            )

    return add


DUPLICATED = (
    b"600000001|1|a|1.00\n600000002|2|b|2.00\n600000003|1|c|3.00\n600000004|1|d|4.00\n600000002|3|e|5.00"
)


def test_several_known_rows_for_one_invoice_count_once_and_the_latest_wins(customer_view, monkeypatch):
    from django.utils import timezone

    from ingestion import selectors
    from ingestion.models import InvoiceLine
    from ingestion.services import ingest_bytes, reprocess_file
    from tests.ingestion.conftest import file_name

    customer_view("600000001", "2000-01-01", "OLD")  # past, but a later row is current
    customer_view("600000001", "2099-12-31", "NEW")
    customer_view("600000002", "2099-12-31", "B")  # same date: the other columns decide
    customer_view("600000002", "2099-12-31", "A")
    customer_view("600000003", "2000-01-01", "P1")
    customer_view("600000003", "2001-01-01", "P2")

    report = ingest_bytes(name=file_name(5), content=DUPLICATED, source="manual")
    assert (report.imported, report.not_found, report.past) == (5, ["600000004"], ["600000003"])
    assert report.file.found_count == 3

    rows = selectors.shipment_rows(invoice_file=report.file, today=timezone.localdate())
    assert [(row["invoice_number"], row["customer_code"], row["quantity"]) for row in rows.rows] == [
        ("600000001", "NEW", 1),
        ("600000002", "A", 2),
        ("600000002", "A", 3),
    ]
    assert (rows.not_found, rows.past) == (["600000004"], ["600000003"])

    # The re-check's lookup (one UPDATE) agrees with the COPY path's.
    InvoiceLine.objects.update(lookup_status="not_found")
    again = reprocess_file(invoice_file=report.file)
    assert (again.not_found, again.past, report.file.found_count) == (["600000004"], ["600000003"], 3)
    statuses = dict(InvoiceLine.objects.values_list("line_number", "lookup_status"))
    assert statuses == {1: "found", 2: "found", 3: "past", 4: "not_found", 5: "found"}
