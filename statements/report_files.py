"""The report as JSON data, CSV text and a formatted XLSX workbook (pure: Report in, bytes out)."""

import csv
import io
import json
import re
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from statements.money import exact_text, minor_unit
from statements.report import Report, ReportRow, Total

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
    "exact",
)


def plain(amount: Decimal, min_places: int) -> str:
    """A decimal string without exponent or needless trailing zeros, with at least `min_places`."""
    text = format(amount.normalize(), "f")
    places = len(text.partition(".")[2])
    return format(amount, f".{max(places, min_places)}f")


def as_json(report: Report) -> dict:
    """Each rounded figure has its exact sum beside it (`exact`), so it can be reconciled."""
    return {
        "currency": report.currency,
        "rows": [_row_dict(row) for row in report.rows],
        "artists": [_total_dict("artist", a) for a in report.artists],
        "dsps": [_total_dict("dsp", d) for d in report.dsps],
        "grand_total": str(report.grand_total),
        "grand_total_exact": exact_text(report.grand_exact),
        "units": report.units,
        "files": report.files,
        "control": report.control,
    }


def _total_dict(kind: str, total: Total) -> dict:
    return {
        kind: total.name,
        "units": total.units,
        "total": str(total.total),
        "exact": exact_text(total.exact),
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
        "gross": str(row.gross),
        "exact": exact_text(row.exact),
    }


def safe_text(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; a leading quote keeps them text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def as_csv(report: Report) -> str:
    """Rows with one subtotal line per artist, then one per DSP and the grand total (column `type`
    says which); `exact_<currency>` holds the unrounded sum of each figure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("type", *ROW_HEADER[:-2], f"gross_{report.currency}", f"exact_{report.currency}"))
    for artist in report.artists:
        for row in artist.rows:
            data = _row_dict(row)
            writer.writerow(
                ("row", *(safe_text(data[k]) if k in TEXT_COLUMNS else data[k] for k in ROW_HEADER))
            )
        writer.writerow(_total_line("artist_total", safe_text(artist.name), "", artist))
    for dsp in report.dsps:
        writer.writerow(_total_line("dsp_total", "", safe_text(dsp.name), dsp))
    writer.writerow(
        (
            "grand_total",
            "",
            "",
            "",
            "",
            "",
            report.units,
            "",
            "",
            report.grand_total,
            exact_text(report.grand_exact),
        )
    )
    return out.getvalue()


def _total_line(kind: str, artist: str, dsp: str, total: Total) -> tuple:
    return (kind, artist, dsp, "", "", "", total.units, "", "", total.total, exact_text(total.exact))


def as_xlsx(report: Report) -> bytes:
    """A summary sheet (artists, DSPs, grand total, control totals per file and for the run), then
    one sheet per artist with its rows and subtotal. Exact sums are text in hidden columns."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    bold = Font(bold=True)
    money_format = _money_format(report.currency)
    _append(summary, [f"Statement: {report.run.name}"], bold)
    _append(summary, [f"Currency: {report.currency}"])
    _append(summary, [])
    _append(summary, ["Artist", "Units", f"Total {report.currency}", "Exact"], bold)
    for artist in report.artists:
        _append(summary, [artist.name, artist.units, artist.total, exact_text(artist.exact)])
    _append(summary, [])
    _append(summary, ["DSP", "Units", f"Total {report.currency}", "Exact"], bold)
    for dsp in report.dsps:
        _append(summary, [dsp.name, dsp.units, dsp.total, exact_text(dsp.exact)])
    _append(summary, [])
    _append(summary, ["Grand total", report.units, report.grand_total, exact_text(report.grand_exact)], bold)
    _append(summary, [])
    _control_totals(summary, report, bold)
    _format(summary, money_columns={3: money_format}, widths=(40, 14, 18, 24, 12, 12, 10, 14, 22, 40))
    summary.column_dimensions["D"].hidden = True
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
        "Exact",
    ]
    for artist in report.artists:
        sheet = workbook.create_sheet(_sheet_title(artist.name, used))
        _append(sheet, [artist.name], bold)
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
                    exact_text(row.exact),
                ],
            )
        _append(
            sheet, ["Total", "", "", "", artist.units, "", "", artist.total, exact_text(artist.exact)], bold
        )
        _format(
            sheet, money_columns={8: money_format}, widths=(22, 10, 10, 16, 12, 18, 14, 18, 24), rate_column=7
        )
        sheet.column_dimensions["I"].hidden = True
        sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _control_totals(sheet, report: Report, bold: Font) -> None:
    """Per file and for the run: lines read / imported / rejected, units and revenue per source
    currency as imported, and what the file declares about itself."""
    _append(sheet, ["Control totals"], bold)
    _append(
        sheet,
        [
            "File",
            "Format",
            "Lines read",
            "Imported",
            "Rejected",
            "Currency",
            "Units",
            "Revenue",
            "Declared",
            "Warnings",
        ],
        bold,
    )
    for data in report.files:
        declared = json.dumps(data["declared"], sort_keys=True) if data["declared"] else ""
        head = [
            f"#{data['id']} {data['name']}",
            data["format"],
            data["lines_read"],
            data["lines_imported"],
            data["lines_rejected"],
        ]
        warnings = "; ".join(data["warnings"])
        currencies = list(data["totals"].items()) or [("", None)]
        for currency, total in currencies:
            units, revenue = (total["units"], total["revenue"]) if total else ("", "")
            _append(sheet, [*head, currency, units, revenue, declared, warnings])
            head, declared, warnings = ["", "", "", "", ""], "", ""
    control = report.control
    head = ["Run", "", control["lines_read"], control["lines_imported"], control["lines_rejected"]]
    for currency, total in control["totals"].items():
        _append(sheet, [*head, currency, total["units"], total["revenue"]], bold)
        head = ["", "", "", "", ""]


def _money_format(currency: str) -> str:
    places = minor_unit(currency)
    return "#,##0." + "0" * places if places else "#,##0"


def _append(sheet, values: list, font: Font | None = None) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            # Never a formula, whatever the artist or DSP name starts with.
            cell.data_type = "s"
        if font is not None:
            cell.font = font


def _format(sheet, *, money_columns: dict[int, str], widths: tuple[int, ...], rate_column: int = 0) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows():
        for cell in row:
            if not isinstance(cell.value, (int, Decimal)):
                continue
            if cell.column in money_columns:
                cell.number_format = money_columns[cell.column]
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
