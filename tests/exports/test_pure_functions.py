import posixpath
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exports.files import storage_key
from exports.records import document_fields, money_changes, mutations_between
from exports.services import clean_ext, export_name
from exports.workbook import HEADERS, DeletedDocument, deleted_row, xlsx_bytes
from project.errors import InvalidInput


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_storage_keys_never_leave_the_exports_prefix(name):
    try:
        key = storage_key(name)
    except InvalidInput:
        return
    assert key.startswith("exports/")
    assert posixpath.normpath(key) == key
    assert ".." not in key.split("/") and "\\" not in key
    assert all(" " <= char <= "~" for char in key)  # no control characters, not even a final newline


@pytest.mark.parametrize(
    "ext",
    [
        "a/b",
        "../x",
        "..",
        "a..b",
        "q4\n",
        "q\x00",
        "q\tx",
        "x\\y",
        ".hidden",
        " lead",
        "é",
        "x" * 51,
        7,
        ["q"],
    ],
)
def test_unsafe_ext_is_refused(ext):
    with pytest.raises(InvalidInput, match="ext"):
        clean_ext(ext)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.booleans())
def test_an_accepted_ext_keeps_the_export_one_file_in_the_exports_prefix(ext, no_log):
    try:
        cleaned = clean_ext(ext)
    except InvalidInput:
        return
    name = export_name(stamp="20261123-101112", ext=cleaned, no_log=no_log)
    assert " " not in name
    key = storage_key(name)
    assert posixpath.dirname(key) == "exports" and posixpath.basename(key) == name
    assert cleaned == ext and ".." not in cleaned and all(" " <= char <= "~" for char in cleaned)


def old_fields(**overrides):
    return {
        "status": "open",
        "invoice_date": date(2026, 11, 1),
        "type": "receipt",
        "version": 5,
        "raw": {},
        **overrides,
    }


def test_mutations_between_versions():
    assert mutations_between(old_fields(), old_fields()) == []
    assert mutations_between(old_fields(), old_fields(version=6)) == [("other", "", "", "")]
    assert mutations_between(
        old_fields(), old_fields(version=6, status="paid", invoice_date=date(2026, 11, 3))
    ) == [
        ("status", "", "open", "paid"),
        ("invoiceDate", "", "2026-11-01", "2026-11-03"),
    ]
    assert mutations_between(old_fields(), old_fields(version=6, type="purchase_invoice")) == [
        ("type", "", "", "purchase_invoice")
    ]


def record(total="121.0", excl="100.0", lines=(("d1", "100.0", "led-1", "tax-21"),)):
    return {
        "total_price_incl_tax": total,
        "total_price_excl_tax": excl,
        "details": [
            {"id": i, "total_price_excl_tax_with_discount": a, "ledger_account_id": led, "tax_rate_id": tax}
            for i, a, led, tax in lines
        ],
    }


def test_money_changes_name_each_changed_field():
    old = record()
    assert money_changes(old, record()) == []
    new = record(
        total="145.2",
        excl="120.0",
        lines=(("d1", "110.0", "led-2", "tax-21"), ("d2", "10.00", "led-1", "tax-9")),
    )
    assert money_changes(old, new) == [
        ("total", "", "121.00", "145.20"),
        ("tax", "", "21.00", "25.20"),
        ("detailAmount", "d1", "100.00", "110.00"),
        ("ledgerAccount", "d1", "led-1", "led-2"),
        ("detailAmount", "d2", "", "10.00"),
    ]
    assert money_changes(new, record(lines=()))[-2:] == [
        ("detailAmount", "d1", "110.00", ""),
        ("detailAmount", "d2", "10.00", ""),
    ]
    # A rate change keeps the amount: only the tax rate (and the tax) change.
    assert money_changes(old, record(lines=(("d1", "100.0", "led-1", "tax-9"),))) == [
        ("taxRate", "d1", "tax-21", "tax-9")
    ]


def test_money_change_of_an_exported_record_replaces_other():
    old = old_fields(raw=record())
    assert mutations_between(old, old_fields(version=6, raw=record(total="130.0"))) == [
        ("total", "", "121.00", "130.00"),
        ("tax", "", "21.00", "30.00"),
    ]


def test_document_fields_keep_money_as_decimal_cents():
    fields = document_fields(
        {
            "id": "1",
            "version": 3,
            "state": "open",
            "date": "2026-11-02",
            "total_price_incl_tax": "12.345",
            "contact": None,
        },
        "receipt",
        7,
    )
    assert fields["version"] == 7  # from the synchronization list, not the record
    assert fields["total_incl_tax"] == Decimal("12.34")  # half to even
    assert fields["contact"] == "" and fields["invoice_date"] == date(2026, 11, 2)


@pytest.mark.parametrize(
    ("stamp", "ext", "no_log", "expected"),
    [
        ("20261123-101112", "", False, "purchase-export-20261123-101112.xlsx"),
        ("20261123-101112", "q4", True, "nolog-purchase-export-20261123-101112-q4.xlsx"),
        ("20261123-101112", "Q4 2026  final", False, "purchase-export-20261123-101112-Q4-2026-final.xlsx"),
    ],
)
def test_export_names(stamp, ext, no_log, expected):
    assert export_name(stamp=stamp, ext=ext, no_log=no_log) == expected


def test_deleted_row_points_to_the_last_file():
    row = deleted_row(DeletedDocument("77", "receipt", "purchase-export-x.xlsx"))
    assert len(row) == len(HEADERS)
    assert (row[0], row[2], row[3], row[26]) == ("77", "document deleted", "DELETED", "receipt")
    assert "purchase-export-x.xlsx" in row[6]


def test_xlsx_of_no_rows_still_has_the_header():
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx_bytes([]))).active
    assert [cell.value for cell in sheet[1]] == HEADERS and sheet.max_row == 1
