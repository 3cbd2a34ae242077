"""The report as JSON data, CSV text and a formatted XLSX workbook (pure: Report in, bytes out)."""

import csv
import io
import re
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from statements.report import Report, ReportRow

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = {"artist", "dsp"}  # the other columns are validated codes or numbers
ROW_HEADER = (
    "artist",
    "dsp",
    "period",
    "territory",
    "source_currency",
    "units",
    "gross_source",
    "rate",
    "gross",
)


def money(amount: Decimal) -> str:
    # Adding zero turns a rounded "-0.00" into "0.00".
    return str(amount.quantize(Decimal("0.01")) + 0)


def plain(amount: Decimal, min_places: int) -> str:
    """A decimal string without exponent or needless trailing zeros, with at least `min_places`."""
    text = format(amount.normalize(), "f")
    places = len(text.partition(".")[2])
    return format(amount, f".{max(places, min_places)}f")


def as_json(report: Report) -> dict:
    return {
        "currency": report.currency,
        "rows": [_row_dict(row) for row in report.rows],
        "artists": [{"artist": a.artist, "units": a.units, "total": money(a.total)} for a in report.artists],
        "grand_total": money(report.grand_total),
    }


def _row_dict(row: ReportRow) -> dict:
    return {
        "artist": row.artist,
        "dsp": row.dsp,
        "period": row.period,
        "territory": row.territory,
        "source_currency": row.source_currency,
        "units": row.units,
        "gross_source": plain(row.gross_source, 2),
        "rate": plain(row.rate, 6),
        "gross": money(row.gross),
    }


def safe_text(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; a leading quote keeps them text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def as_csv(report: Report) -> str:
    """Rows, then one subtotal line per artist and the grand total (column `type` says which)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("type", *ROW_HEADER[:-1], f"gross_{report.currency}"))
    for artist in report.artists:
        for row in artist.rows:
            data = _row_dict(row)
            writer.writerow(
                ("row", *(safe_text(data[k]) if k in TEXT_COLUMNS else data[k] for k in ROW_HEADER))
            )
        writer.writerow(
            (
                "artist_total",
                safe_text(artist.artist),
                "",
                "",
                "",
                "",
                artist.units,
                "",
                "",
                money(artist.total),
            )
        )
    writer.writerow(("grand_total", "", "", "", "", "", report.units, "", "", money(report.grand_total)))
    return out.getvalue()


def as_xlsx(report: Report) -> bytes:
    """A summary sheet, then one sheet per artist with its rows and subtotal."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    bold = Font(bold=True)
    _append(summary, [f"Statement: {report.run.name}"], bold)
    _append(summary, [f"Currency: {report.currency}"])
    _append(summary, [])
    _append(summary, ["Artist", "Units", f"Total {report.currency}"], bold)
    for artist in report.artists:
        _append(summary, [artist.artist, artist.units, artist.total])
    _append(summary, ["Grand total", report.units, report.grand_total], bold)
    _format(summary, money_columns=(3,), widths=(40, 14, 18))
    used: set[str] = {"summary"}
    header = [
        "DSP",
        "Period",
        "Territory",
        "Source currency",
        "Units",
        "Gross (source)",
        "Rate",
        f"Gross {report.currency}",
    ]
    for artist in report.artists:
        sheet = workbook.create_sheet(_sheet_title(artist.artist, used))
        _append(sheet, [artist.artist], bold)
        _append(sheet, header, bold)
        for row in artist.rows:
            _append(
                sheet,
                [
                    row.dsp,
                    row.period,
                    row.territory,
                    row.source_currency,
                    row.units,
                    row.gross_source,
                    row.rate,
                    row.gross,
                ],
            )
        _append(sheet, ["Total", "", "", "", artist.units, "", "", artist.total], bold)
        _format(sheet, money_columns=(8,), widths=(22, 10, 10, 16, 12, 18, 14, 18), rate_column=7)
        sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append(sheet, values: list, font: Font | None = None) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            # Never a formula, whatever the artist or DSP name starts with.
            cell.data_type = "s"
        if font is not None:
            cell.font = font


def _format(sheet, *, money_columns: tuple[int, ...], widths: tuple[int, ...], rate_column: int = 0) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows():
        for cell in row:
            if not isinstance(cell.value, (int, Decimal)):
                continue
            if cell.column in money_columns:
                cell.number_format = "#,##0.00"
            elif cell.column == rate_column:
                cell.number_format = "0.000000####"
            elif isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00########"


def _sheet_title(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", name).strip() or "Artist"
    base = base[:31]
    title, number = base, 2
    while title.lower() in used:
        suffix = f" ({number})"
        title, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(title.lower())
    return title
