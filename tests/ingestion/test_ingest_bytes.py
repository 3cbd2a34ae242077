from decimal import Decimal

import pytest

from ingestion import selectors
from ingestion.models import Category, InvoiceFile, InvoiceLine
from ingestion.services import InvalidFileName, ingest_bytes
from project.models import OutboundEmail
from tests.ingestion.conftest import content, file_name

pytestmark = pytest.mark.django_db


SAMPLE = content(
    "600000001|2|Health & Beauty, Toys|12.50",
    "600000002|1|toys|3.99",
    "500000003|1|ignored row|1.00",
    "600000004|3| Health  &  beauty ,Garden|45.00",
    "60000005|1|short|1.00",
)


def test_imports_rows_with_lookup_status_and_categories(known_invoices):
    known_invoices(found=["600000001"], past=["600000002"])
    report = ingest_bytes(name=file_name(5), content=SAMPLE, source="manual")

    assert report.status == "imported"
    data = report.as_json()
    assert data == {
        "file": file_name(5),
        "status": "imported",
        "declared_records": 5,
        "records": 5,
        "imported": 3,
        "ignored": 1,
        "invalid": [{"line": 5, "reason": "invoice number '60000005' must be exactly 9 characters"}],
        "not_found": ["600000004"],
        "past": ["600000002"],
        "categories": ["garden", "health & beauty", "toys"],
    }
    lines = list(InvoiceLine.objects.filter(file=report.file).order_by("line_number"))
    assert [line.line_number for line in lines] == [1, 2, 4]
    assert [line.lookup_status for line in lines] == ["found", "past", "not_found"]
    assert lines[0].value == Decimal("12.50") and lines[2].quantity == 3
    assert lines[2].description == " Health  &  beauty ,Garden"
    assert sorted(c.key for c in lines[2].categories.all()) == ["garden", "health & beauty"]
    assert Category.objects.get(key="health & beauty").name == "Health & Beauty"
    invoice_file = InvoiceFile.objects.get()
    assert (invoice_file.found_count, invoice_file.past_count, invoice_file.not_found_count) == (1, 1, 1)
    assert OutboundEmail.objects.filter(kind="ingestion/summary").count() == 1


def test_same_name_or_same_content_is_a_duplicate():
    ingest_bytes(name=file_name(5), content=SAMPLE, source="manual")
    assert ingest_bytes(name=file_name(5), content=b"other", source="ftp").status == "duplicate"
    assert ingest_bytes(name=file_name(5, at="100000000"), content=SAMPLE, source="ftp").status == "duplicate"
    assert InvoiceFile.objects.count() == 1
    assert InvoiceLine.objects.count() == 3


def test_invalid_name_raises():
    with pytest.raises(InvalidFileName, match=r"Letture<YYYYMMDDHHMMSSmmm>_<N>\.txt"):
        ingest_bytes(name="invoices.txt", content=SAMPLE, source="manual")


def test_shipment_rows_rechecks_known_invoices(known_invoices):
    known_invoices(found=["600000001"], past=["600000002"])
    report = ingest_bytes(name=file_name(5), content=SAMPLE, source="manual")
    from django.utils import timezone

    rows = selectors.shipment_rows(invoice_file=report.file, today=timezone.localdate())
    assert rows.not_found == ["600000004"] and rows.past == ["600000002"]
    assert rows.rows[0]["invoice_number"] == "600000001" and rows.rows[0]["customer_name"] == "C 600000001"
    assert rows.rows[0]["value"] == Decimal("12.50") and rows.rows[0]["quantity"] == 2
    assert selectors.imported_file_for_day(timezone.localdate()) == report.file
