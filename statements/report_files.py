"""The report as JSON data, CSV text and a formatted XLSX workbook (pure: Report in, bytes out)."""

import csv
import io
import json
from decimal import Decimal

from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from project.money import exact_text, minor_unit
from statements.report import Report, ReportRow, Total

# Excel keeps 15 significant digits of a number; an exact sum with more is written as text.
EXCEL_DIGITS = 15
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


def download_name(run, stem: str, extension: str) -> str:
    """A download's file name after its run: `statement-q3-2026-7.xlsx` (ASCII, no spaces; the id
    keeps two runs of the same name apart)."""
    return f"{stem}-{slugify(run.name)[:60] or 'run'}-{run.pk}.{extension}"


def exact_cell(value: Decimal) -> Decimal | str:
    """An exact sum as a number when Excel keeps every digit of it (15 significant digits), else as
    text: a spreadsheet would round it silently."""
    digits = len(value.normalize().as_tuple().digits)
    return value if digits <= EXCEL_DIGITS else exact_text(value)


def as_xlsx(report: Report) -> bytes:
    """Three sheets: Summary (artists, DSPs, grand total), Lines (every row, the artist a column,
    ready to filter and pivot) and Control totals (per file and for the run). Figures are numbers;
    an exact sum is a number too unless it has more digits than Excel keeps, then text."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    bold = Font(bold=True)
    money_format = _money_format(report.currency)
    exact_header = f"Exact {report.currency} (text beyond {EXCEL_DIGITS} digits)"
    _append(summary, [f"Statement: {report.run.name}"], bold)
    _append(summary, [f"Currency: {report.currency}"])
    _append(summary, [])
    _append(summary, ["Artist", "Units", f"Total {report.currency}", exact_header], bold)
    for artist in report.artists:
        _append(summary, [artist.name, artist.units, artist.total, exact_cell(artist.exact)])
    _append(summary, [])
    _append(summary, ["DSP", "Units", f"Total {report.currency}", exact_header], bold)
    for dsp in report.dsps:
        _append(summary, [dsp.name, dsp.units, dsp.total, exact_cell(dsp.exact)])
    _append(summary, [])
    _append(summary, ["Grand total", report.units, report.grand_total, exact_cell(report.grand_exact)], bold)
    _format(summary, money_columns={3: money_format}, widths=(40, 14, 18, 30))

    lines = workbook.create_sheet("Lines")
    header = [
        "Artist",
        "DSP",
        "Period",
        "Territory",
        "Source currency",
        "Units",
        "Gross (source)",
        "Rate",
        f"Gross {report.currency}",
        exact_header,
    ]
    _append(lines, header, bold)
    for row in report.rows:
        _append(
            lines,
            [
                row.artist,
                row.dsp,
                row.period,
                row.territory,
                row.source_currency,
                row.units,
                row.gross_source,
                row.rate,
                row.gross,
                exact_cell(row.exact),
            ],
        )
    _format(
        lines, money_columns={9: money_format}, widths=(30, 22, 10, 10, 16, 12, 18, 14, 18, 30), rate_column=8
    )
    lines.freeze_panes = "B2"
    lines.auto_filter.ref = lines.dimensions

    control = workbook.create_sheet("Control totals")
    _control_totals(control, report, bold)
    _format(control, money_columns={}, widths=(40, 14, 12, 12, 12, 12, 10, 14, 22, 40))
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
