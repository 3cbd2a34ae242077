"""The export sheet: one row per detail line of each document, and a control-totals sheet
(pure functions, no database)."""

import io
from collections import defaultdict
from collections.abc import Callable, Iterable
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
    "correction",
]
COLUMN = {name: index for index, name in enumerate(HEADERS)}
DATE_COLUMNS = {
    COLUMN[name] for name in ("date", "due date", "paid at", "period from", "period to", "created", "updated")
}
NUMBER_COLUMNS = {
    COLUMN[name]
    for name in (
        "amount (number)",
        "total excl. tax",
        "tax rate %",
        "price",
        "total excl. tax (base)",
        "total incl. tax (base)",
        "VAT",
    )
}
# A reversal negates the quantity and every total; the unit price and the tax percentage stay.
NEGATED_COLUMNS = {
    COLUMN[name]
    for name in (
        "amount (number)",
        "total excl. tax",
        "total excl. tax (base)",
        "total incl. tax (base)",
        "VAT",
    )
}
EXCL, VAT, INCL = COLUMN["total excl. tax (base)"], COLUMN["VAT"], COLUMN["total incl. tax (base)"]
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
        None,
    ]


def deleted_row(document: DeletedDocument) -> list:
    row: list = [None] * len(HEADERS)
    row[0] = document.moneybird_id
    row[2] = DELETED_TEXT
    row[3] = DELETED_STATE
    if document.last_file:
        row[6] = f"{document.last_file} holds the last details"
    row[COLUMN["type"]] = document.type
    return row


@dataclass(frozen=True)
class Lookups:
    """Ledger accounts and tax rates by Moneybird id, and the document link builder."""

    ledgers: dict[str, dict]
    taxes: dict[str, dict]
    link_for: Callable[[str], str]

    @classmethod
    def of(
        cls, *, ledger_accounts: list[dict], tax_rates: list[dict], link_for: Callable[[str], str]
    ) -> "Lookups":
        return cls(_by_id(ledger_accounts), _by_id(tax_rates), link_for)


def document_rows(doc_type: str, record: dict, lookups: Lookups) -> list[list]:
    """The rows of one document: one per detail line."""
    link = lookups.link_for(str(record.get("id")))
    return [
        detail_row(record, doc_type, detail, ledgers=lookups.ledgers, taxes=lookups.taxes, link=link)
        for detail in record.get("details") or []
    ]


def export_rows(
    *,
    records: list[tuple[str, dict]],
    deleted: list[DeletedDocument],
    ledger_accounts: list[dict],
    tax_rates: list[dict],
    link_for: Callable[[str], str],
) -> list[list]:
    """Rows for (type, record) pairs plus one "deleted" row per document Moneybird no longer has."""
    lookups = Lookups.of(ledger_accounts=ledger_accounts, tax_rates=tax_rates, link_for=link_for)
    rows = [row for doc_type, record in records for row in document_rows(doc_type, record, lookups)]
    rows.extend(deleted_row(document) for document in deleted)
    return rows


def encode_row(row: list) -> list:
    """A row as JSON values (kept with the export, so a later correction can reverse it exactly)."""
    return [
        value.url
        if isinstance(value, Link)
        else value.isoformat()
        if isinstance(value, date)
        else str(value)
        if isinstance(value, Decimal)
        else value
        for value in row
    ]


def decode_row(values: list) -> list:
    """encode_row's inverse (links come back as Link, dates and numbers typed again)."""
    row = list(values) + [None] * (len(HEADERS) - len(values))
    for index, value in enumerate(row):
        if value is None:
            continue
        if index == COLUMN["link"]:
            row[index] = Link("link", value)
        elif index in DATE_COLUMNS:
            row[index] = to_date(value)
        elif index in NUMBER_COLUMNS:
            row[index] = to_decimal(value)
    return row


def reversal(rows: Iterable[list], *, of_file: str) -> list[list]:
    """`rows` (as exported in `of_file`) negated, marked as their reversal."""
    reversed_rows = []
    for row in rows:
        negated = [
            -value if index in NEGATED_COLUMNS and isinstance(value, Decimal) else value
            for index, value in enumerate(row)
        ]
        negated[COLUMN["correction"]] = f"reversal of {of_file}"
        reversed_rows.append(negated)
    return reversed_rows


def marked(rows: list[list], label: str) -> list[list]:
    for row in rows:
        row[COLUMN["correction"]] = label
    return rows


def control_totals(rows: list[list]) -> list[list]:
    """Totals (rows, excl., VAT, incl. in base currency) per currency, per ledger account and per tax
    rate, each group adding up to the sheet's rows; rows without amounts (deleted) count nowhere."""
    groups: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0)])
    keys = {
        "all rows": lambda row: "",
        "currency": lambda row: row[COLUMN["currency"]] or "",
        "ledger account": lambda row: " ".join(
            str(part) for part in (row[COLUMN["ledger account code"]], row[COLUMN["ledger account"]]) if part
        ),
        "tax rate": lambda row: row[COLUMN["tax rate"]] or "",
    }
    for row in rows:
        if row[EXCL] is None:
            continue
        for section, key in keys.items():
            total = groups[(section, key(row))]
            total[0] += 1
            total[1] += row[EXCL] or 0
            total[2] += row[VAT] or 0
            total[3] += row[INCL] or 0
    order = list(keys)
    return [
        [section, key, *totals]
        for (section, key), totals in sorted(
            groups.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
        )
    ]


TOTALS_HEADERS = ["group", "key", "rows", "total excl. tax (base)", "VAT", "total incl. tax (base)"]


def xlsx_bytes(rows: list[list], *, title: str = "Moneybird export") -> bytes:
    """An xlsx with a bold header row and a second sheet of control totals; text that looks like a
    formula is stored as text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    _fill(sheet, HEADERS, rows)
    for index, width in enumerate([20, 8, 25, 10, 12, 12, 30, 12, 8, 12], start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    totals = workbook.create_sheet("Control totals")
    _fill(totals, TOTALS_HEADERS, control_totals(rows))
    for letter, width in zip("ABCDEF", [16, 30, 8, 20, 12, 20], strict=True):
        totals.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill(sheet, headers: list[str], rows: list[list]) -> None:
    sheet.append(headers)
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
