"""Sales reports sent as an Excel workbook (.xlsx) or as a zip archive of a distributor's statement
bundle import like the CSV of the same lines: the workbook's largest sheet is read row by row, a
number as the decimal Excel shows, and an archive as the first of its files a reader recognises.

The Cargo layouts come from real statements (SuperHyperInstantFutureTime/TrackShift,
test/files/Cargo_Physical_Test.xlsx: its header; Cargo_Digital_Test.zip: the names of its files,
whose royalty CSV is ../shared/realdata's trackshift_Cargo_Digital_Test-royalty_extended.csv).
The workbooks are written here with openpyxl; the expected figures are summed with Decimal from the
literal values written."""

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from statements.cleaners.workbook import cell_text

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "statements"
CARGO_DIGITAL = REALDATA / "set2" / "trackshift_Cargo_Digital_Test-royalty_extended.csv"

CARGO_PHYSICAL_HEADER = (
    "Period", "Catalogue No.", "Label", "Label ID", "Sold To", "Cinram V Sage V Cost", "Domestic v Export",
    "Sale / Cost", "Type / Cost Reason", "Country", "Artist / Invoice Ref", "Title / More info",
    "UPC on report", "Format", "Net Qty", "Gross value", "Cost", "Storage Costs", "Distribution fee",
    "Net after fee",
)  # fmt: skip
# (sold to, sale or cost, country, artist, release, UPC, units, net after fee)
CARGO_PHYSICAL_LINES = [
    ("AMAZON EU SARL, UK BRANCH", "Sale", "UK", "ARTIST 1", "ALBUM 1", 1234567891234, 1, "7.28"),
    ("CARGO GERMANY STOCK", "Sale", "Germany", "ARTIST 1", "ALBUM 1", 1234567891234, -1, "-7.6"),
    ("SUNRISE RECORDS & ENT. LTD", "Sale", "UK", "ARTIST 2", "ALBUM 100", 3456789012345, 1, "5.192"),
    ("SUNRISE RECORDS & ENT. LTD", "Sale", "France", "ARTIST 2", "ALBUM 100", 3456789012345, 3, "0.1"),
    ("CARGO RECORDS", "Cost", "UK", "INV 4711", "Storage\nJanuary", None, 0, "-1.15"),
]


def cargo_physical_workbook(lines=CARGO_PHYSICAL_LINES, *, header=CARGO_PHYSICAL_HEADER) -> bytes:
    """A statement as Cargo sends it: a short summary sheet first, then the lines (amounts and
    quantities as Excel numbers, the UPC a whole number)."""
    workbook = openpyxl.Workbook()
    summary = workbook.active
    summary.title = "Summary"
    summary.append(["Label", "TEST RECORDS"])
    sheet = workbook.create_sheet("444504_2023_Q1")
    sheet.append(header)
    for sold_to, kind, country, artist, release, upc, units, net in lines:
        sheet.append(
            ["2023_01", "TS001LP", "TEST RECORDS", 123456, sold_to, "Sage", "Domestic", kind, "Store", country,
             artist, release, upc, "VL", units, None, None, None, 0.8, float(net)]
        )  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (7, "7"),
        (1234567891234, "1234567891234"),
        (0.1, "0.1"),  # the decimal Excel shows, not 0.1000000000000000055…
        (5.192, "5.192"),
        (-7.6, "-7.6"),
        (1e-05, "0.00001"),  # plain notation: the cleaners read no exponent
        (1e16, "10000000000000000"),
        (7.0, "7.0"),
        (True, "TRUE"),
        (datetime(2023, 1, 31), "2023-01-31"),
        (datetime(2023, 1, 31, 12, 30), "2023-01-31 12:30:00"),
        (date(2023, 2, 1), "2023-02-01"),
        ("Storage\nJanuary", "Storage January"),  # one sheet row stays one line
        ("Konte\u0301", "Konté"),
    ],
)
def test_a_cell_reads_as_a_csv_export_of_the_sheet_would_hold_it(value, text):
    assert cell_text(value) == text


@pytest.mark.django_db
def test_a_cargo_physical_workbook_imports_with_exact_totals(flow):
    run_id = flow.create_run(currency="GBP")
    file_id = flow.processed_file(cargo_physical_workbook(), run_id, name="Cargo_Physical_Q1.xlsx")
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    assert data["format"] == "cargo_physical"
    revenue = sum((Decimal(line[7]) for line in CARGO_PHYSICAL_LINES), Decimal(0))
    units = sum(line[6] for line in CARGO_PHYSICAL_LINES)
    assert data["totals"] == {"GBP": {"lines": 5, "units": units, "revenue": str(revenue)}}
    assert data["reconciliation"]["GBP"]["difference"] == "0" and data["lines_rejected"] == 0

    from statements.models import SalesLine

    lines = SalesLine.objects.filter(sales_file_id=file_id).order_by("line_number")
    first, germany, *_, cost = lines
    # Sheet row numbers: the header is row 1.
    assert [line.line_number for line in lines] == [2, 3, 4, 5, 6]
    assert (first.period, first.territory, first.upc, first.release, first.sale_type) == (
        "2023-01", "GB", "1234567891234", "ALBUM 1", "physical",
    )  # fmt: skip
    assert (germany.territory, germany.units, germany.revenue) == ("DE", -1, Decimal("-7.6"))
    # A cost line keeps its (negative) money, as other income: the statement still reconciles.
    assert (cost.sale_type, cost.revenue, cost.release) == ("other", Decimal("-1.15"), "Storage January")


@pytest.mark.django_db
def test_a_workbook_of_an_unknown_layout_is_mapped_like_a_csv(flow):
    header = ("Mese", "Negozio", "Paese", "Interprete", "Pezzi", "Importo")
    rows = [
        ("2025-06", "Deezer", "IT", "Lucia Neri", 10, 1.2345),
        ("2025-06", "Qobuz", "FR", "Lucia Neri", 2, 0.5),
    ]
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    file_id = flow.processed_file(buffer.getvalue(), name="negozio.xlsx")
    assert flow.file(file_id)["status"] == "NEEDS_MAPPING"
    table = flow.client.get(f"/api/files/salesfiles/{file_id}/mapping/").json()["table"]
    assert table["columns"] == list(header)
    assert table["rows"][0] == ["2025-06", "Deezer", "IT", "Lucia Neri", "10", "1.2345"]
    body = {
        "columns": {"period": "Mese", "dsp": "Negozio", "territory": "Paese", "artist": "Interprete",
                    "units": "Pezzi", "revenue": "Importo"},
        "fixed": {"currency": "EUR"},
        "name": "Negozio (Excel)",
    }  # fmt: skip
    saved = flow.client.put(
        f"/api/files/salesfiles/{file_id}/mapping/", body, content_type="application/json"
    )
    assert saved.status_code == 202, saved.content
    assert flow.file(file_id)["totals"] == {"EUR": {"lines": 2, "units": 12, "revenue": "1.7345"}}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.skipif(not CARGO_DIGITAL.is_file(), reason="../shared/realdata is absent")
def test_a_statement_bundle_imports_its_royalty_report(flow):
    """Cargo's digital statement bundle: lookup tables beside the royalty lines (read from the
    real file where it is, zipped here) and a statement workbook."""
    royalty = CARGO_DIGITAL.read_bytes()
    bundle = _zip(
        {
            "Cargo_Digital_Test-artists.csv": b"Artist ID,Artist Name\n1,Artist 1\n",
            "Cargo_Digital_Test-countries.csv": b"Code,Country\nGB,United Kingdom\n",
            "Cargo_Digital_Test-royalty_extended.csv": royalty,
            "__MACOSX/._Cargo_Digital_Test-royalty_extended.csv": b"\x00\x05\x16\x07",
        }
    )
    rows = list(csv.DictReader(io.StringIO(royalty.decode("utf-8-sig"), newline="")))
    revenue = sum((Decimal(row["Reported Royalty"]) for row in rows), Decimal(0))
    units = sum(int(row["Quantity"]) for row in rows)
    run_id = flow.create_run(currency="GBP")
    file_id = flow.processed_file(bundle, run_id, name="Cargo_Digital_Test.zip")
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    assert data["format"] == "fuga_royalty"
    totals = data["totals"]["GBP"]
    assert (totals["lines"], totals["units"], Decimal(totals["revenue"])) == (len(rows), units, revenue)


@pytest.mark.django_db
def test_an_archive_without_a_report_fails_naming_what_it_holds(flow):
    bundle = _zip({"readme.txt": b"hello\n", "logo.png": b"\x89PNG", "artists.csv": b"Artist ID,Name\n1,A\n"})
    file_id = flow.processed_file(bundle, name="bundle.zip")
    data = flow.file(file_id)
    assert data["status"] == "FAILED"
    assert "no file in this zip archive is a sales report" in data["failure_reason"]
    assert "artists.csv, readme.txt" in data["failure_reason"] and "logo.png" not in data["failure_reason"]


@pytest.mark.django_db
def test_a_file_that_only_looks_like_a_zip_is_binary_content(flow):
    file_id = flow.processed_file(b"PK\x03\x04 not really an archive", name="broken.zip")
    data = flow.file(file_id)
    assert data["status"] == "FAILED" and "binary content" in data["failure_reason"]
