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
        "invalid": [
            {
                "line": 5,
                "reason": "invoice number '60000005' must be exactly 9 characters",
                "code": "invoice_number_length",
                "params": {"value": "'60000005'"},
            }
        ],
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
    original = ingest_bytes(name=file_name(5), content=SAMPLE, source="manual").file
    assert ingest_bytes(name=file_name(5), content=b"other", source="ftp").status == "duplicate"
    copy = ingest_bytes(name=file_name(5, at="100000000"), content=SAMPLE, source="ftp")
    assert copy.status == "duplicate"
    # The copy under a new name is recorded, pointing at the original; nothing is imported twice.
    assert copy.file.duplicate_of == original and copy.file.archive_path == original.archive_path
    assert InvoiceFile.objects.count() == 2
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


def test_cp1252_crlf_file_is_imported_through_the_whole_path():
    data = "600000001|1|Café, Crème brûlée|1.50\r\n600000002|2|café|2.00\r\n".encode("cp1252")
    report = ingest_bytes(name=file_name(2), content=data, source="manual")
    assert report.status == "imported" and report.as_json()["categories"] == ["café", "crème brûlée"]
    line = InvoiceLine.objects.get(line_number=1)
    assert line.description == "Café, Crème brûlée"
    assert Category.objects.get(key="café").name == "Café"


def test_categories_are_shared_between_files_and_keep_the_first_spelling():
    ingest_bytes(name=file_name(1), content=b"600000001|1|HOME  Decor|1.00", source="manual")
    second = b"600000002|1|home decor, Home Decor|1.00\n"
    ingest_bytes(name=file_name(1, at="100000000"), content=second, source="manual")
    category = Category.objects.get()
    assert (category.key, category.name) == ("home decor", "HOME Decor")
    assert category.lines.count() == 2
    assert list(InvoiceLine.objects.get(invoice_number="600000002").categories.all()) == [category]


def test_rows_with_an_empty_description_have_no_categories():
    report = ingest_bytes(name=file_name(1), content=b"600000001|1||1.00", source="manual")
    assert report.imported == 1 and report.categories == []
    assert not InvoiceLine.objects.get().categories.exists()


def test_descriptions_with_tabs_and_backslashes_survive_copy():
    data = b"600000001|1|a\\b\tc, d|1.00\n600000002|1|plain|1.00"
    ingest_bytes(name=file_name(2), content=data, source="manual")
    assert InvoiceLine.objects.get(line_number=1).description == "a\\b\tc, d"


def test_file_with_wrong_record_count_is_rejected_and_nothing_imported():
    report = ingest_bytes(name=file_name(6), content=SAMPLE, source="manual")
    assert report.status == "rejected"
    assert report.as_json()["declared_records"] == 6 and report.as_json()["records"] == 5
    assert InvoiceLine.objects.count() == 0 and Category.objects.count() == 0
    assert InvoiceFile.objects.get().reason


def test_deleting_a_file_removes_its_lines_and_links_so_it_can_be_sent_again():
    from ingestion.models import InvoiceLineCategory
    from ingestion.services import delete_invoice_file

    report = ingest_bytes(name=file_name(5), content=SAMPLE, source="manual")
    delete_invoice_file(invoice_file=report.file)
    assert InvoiceLine.objects.count() == 0 and InvoiceLineCategory.objects.count() == 0
    assert Category.objects.count() == 3  # categories are shared reference data
    assert ingest_bytes(name=file_name(5), content=SAMPLE, source="manual").status == "imported"
