"""The export sheet: one row per detail line of each document (pure functions, no database)."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from exports.records import CENT, to_date, to_decimal

HEADERS = [
    "id",
    "link",
    "reference",
    "state",
    "date",
    "due date",
    "contact",
    "customer id",
    "currency",
    "paid at",
    "amount",
    "amount (number)",
    "description",
    "ledger account",
    "ledger account code",
    "total excl. tax",
    "tax rate %",
    "price",
    "total excl. tax (base)",
    "total incl. tax (base)",
    "tax rate",
    "VAT",
    "period from",
    "period to",
    "created",
    "updated",
    "type",
]
DELETED_TEXT = "document deleted"
DELETED_STATE = "DELETED"
# Spreadsheet programs run cells starting with these as formulas (CSV/formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class DeletedDocument:
    """A requested document Moneybird no longer has; `last_file` holds its last exported details."""

    moneybird_id: str
    type: str
    last_file: str | None


def _period(value: object) -> tuple[date | None, date | None]:
    """Moneybird detail periods look like "20190101..20191231"."""
    if not isinstance(value, str) or len(value) != 18 or value[8:10] != "..":
        return None, None
    return to_date(f"{value[:4]}-{value[4:6]}-{value[6:8]}"), to_date(
        f"{value[10:14]}-{value[14:16]}-{value[16:]}"
    )


def _by_id(items: list[dict]) -> dict[str, dict]:
    return {str(item.get("id")): item for item in items}


def detail_row(
    record: dict, doc_type: str, detail: dict, *, ledgers: dict[str, dict], taxes: dict[str, dict], link: str
) -> list:
    """The sheet row of one detail line, columns in HEADERS order."""
    ledger = ledgers.get(str(detail.get("ledger_account_id")), {})
    tax = taxes.get(str(detail.get("tax_rate_id")), {})
    contact = record.get("contact") or {}
    percentage = to_decimal(tax.get("percentage"))
    excl_base = to_decimal(detail.get("total_price_excl_tax_with_discount_base"))
    vat = None
    if percentage is not None and excl_base is not None:
        vat = (excl_base * percentage / 100).quantize(CENT, rounding=ROUND_HALF_EVEN)
    period_from, period_to = _period(detail.get("period"))
    return [
        str(record.get("id")),
        Link("link", link),
        record.get("reference"),
        record.get("state"),
        to_date(record.get("date")),
        to_date(record.get("due_date")),
        contact.get("company_name"),
        contact.get("customer_id"),
        record.get("currency"),
        to_date(record.get("paid_at")),
        detail.get("amount"),
        to_decimal(detail.get("amount_decimal")),
        detail.get("description"),
        ledger.get("name"),
        ledger.get("account_id"),
        to_decimal(detail.get("total_price_excl_tax_with_discount")),
        percentage,
        to_decimal(detail.get("price")),
        excl_base,
        excl_base + vat if vat is not None else None,
        tax.get("name"),
        vat,
        period_from,
        period_to,
        to_date(record.get("created_at")),
        to_date(record.get("updated_at")),
        doc_type,
    ]


def deleted_row(document: DeletedDocument) -> list:
    row: list = [None] * len(HEADERS)
    row[0] = document.moneybird_id
    row[2] = DELETED_TEXT
    row[3] = DELETED_STATE
    if document.last_file:
        row[6] = f"{document.last_file} holds the last details"
    row[26] = document.type
    return row


def export_rows(
    *,
    records: list[tuple[str, dict]],
    deleted: list[DeletedDocument],
    ledger_accounts: list[dict],
    tax_rates: list[dict],
    link_for: Callable[[str], str],
) -> list[list]:
    """Rows for (type, record) pairs plus one "deleted" row per document Moneybird no longer has."""
    ledgers, taxes = _by_id(ledger_accounts), _by_id(tax_rates)
    rows = [
        detail_row(
            record, doc_type, detail, ledgers=ledgers, taxes=taxes, link=link_for(str(record.get("id")))
        )
        for doc_type, record in records
        for detail in record.get("details") or []
    ]
    rows.extend(deleted_row(document) for document in deleted)
    return rows


def xlsx_bytes(rows: list[list], *, title: str = "Moneybird export") -> bytes:
    """An xlsx with a bold header row; text that looks like a formula is stored as text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row_number, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=row_number, column=column)
            if not isinstance(value, Link | str | int | float | Decimal | date):
                value = str(value)
            if isinstance(value, Link):
                cell.value, cell.hyperlink = value.text, value.url
                cell.font = Font(color="FF00ACC2")
            elif isinstance(value, str):
                cell.value = value
                if value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"
                    cell.quotePrefix = True
            else:
                cell.value = value
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
    for index, width in enumerate([20, 8, 25, 10, 12, 12, 30, 12, 8, 12], start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
