"""Payee statement documents: PDF (a Django template rendered by WeasyPrint, with inline SVG
charts), xlsx (openpyxl, the line detail) and a zip of every payee's documents."""

import io
import json
import zipfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from statements.royalties.presentation import SUMMARY

CHART_WIDTH = 260  # px of the longest bar
SUMMARY_LABELS = {
    "opening": _("Opening balance"),
    "earnings": _("Earnings"),
    "reserve_held": _("Reserves held"),
    "reserve_released": _("Reserves released"),
    "recouped": _("Recouped (memo)"),
    "closing": _("Closing balance"),
    "payable": _("Payable"),
    "carried_forward": _("Carried forward"),
}


def pdf(run: dict, statement: dict) -> bytes:
    return render_pdf("statements/royalty_statement.html", _context(run, statement))


def render_pdf(template: str, context: dict) -> bytes:
    """A template rendered into a PDF document (the statements, the self-billing invoices)."""
    from weasyprint import HTML  # imported late: it loads Pango, which only documents need

    # A document for the payee, like the email it goes with: in the site's language, not the
    # language of whoever downloads it.
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def xlsx(run: dict, statement: dict) -> bytes:
    book = Workbook(write_only=True)
    summary = book.create_sheet("Summary")
    summary.append(["Run", run["name"], "Currency", statement["currency"]])
    summary.append(["Payee", statement["payee"]["name"]])
    summary.append(["Figure", "Amount", "Exact"])
    with translation.override(settings.LANGUAGE_CODE):
        labels = {name: str(label) for name, label in SUMMARY_LABELS.items()}
    for name, label in labels.items():
        item = statement["summary"][name]
        summary.append([label, Decimal(item["amount"]), item["exact"]])
    lines = book.create_sheet("Lines")
    columns = [
        "contract_id",
        "sale_type",
        "dsp",
        "territory",
        "period",
        "isrc",
        "title",
        "lines",
        "units",
        "base",
        "rate",
        "share",
    ]
    lines.append([*columns, "earnings", "earnings_exact"])
    for row in statement["lines"]:
        values = [row[c] for c in columns]
        # Amounts as numbers for spreadsheet sums; the exact text beside the rounded figure.
        values[9:12] = [Decimal(row["base"]), Decimal(row["rate"]), Decimal(row["share"])]
        lines.append([*values, Decimal(row["earnings"]["amount"]), row["earnings"]["exact"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def archive(data: dict, statements: Iterable[dict]) -> bytes:
    """A zip of every payee's PDF and xlsx (`statements`: each payee's whole statement), plus the
    run's statements (`data`) as JSON."""
    out = io.BytesIO()
    write_archive(data, statements, out)
    return out.getvalue()


def write_archive(
    data: dict,
    statements: Iterable[dict],
    sink: BinaryIO,
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write the zip of `archive` to `sink`, calling `on_progress(payees done, payees)` after each."""
    total = len(data["statements"])
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("statements.json", json.dumps(data, indent=1))
        for done, statement in enumerate(statements, 1):
            stem = document_name(data["run"], statement)
            zf.writestr(f"{stem}.pdf", pdf(data["run"], statement))
            zf.writestr(f"{stem}.xlsx", xlsx(data["run"], statement))
            if on_progress is not None:
                on_progress(done, total)


def document_name(run: dict, statement: dict) -> str:
    payee = statement["payee"]
    return f"statement-{run['id']}-{payee['id']}-{slugify(payee['name']) or 'payee'}"


def _context(run: dict, statement: dict) -> dict:
    return {
        "run": run,
        "statement": statement,
        "summary": [
            (name, SUMMARY_LABELS[name], statement["summary"][name]) for name in (*SUMMARY, "carried_forward")
        ],
        "charts": [
            (_("Earnings by DSP"), bars(statement["by_dsp"])),
            (_("Earnings by month"), bars(statement["by_month"])),
        ],
        "tables": [
            (_("Earnings by DSP"), _("DSP"), statement["by_dsp"]),
            (_("Earnings by month"), _("Month"), statement["by_month"]),
            (_("Earnings by territory"), _("Territory"), statement["by_territory"]),
            (_("Earnings by track"), _("Track"), statement["by_track"]),
        ],
    }


def bars(items: list[dict], scale: int = CHART_WIDTH) -> dict:
    """Bar lengths for a chart, the longest `scale` (px of an inline SVG, or percent): proportional
    to the exact figures, negatives drawn as zero."""
    values = [max(Decimal(item["earnings"]["exact"]), Decimal(0)) for item in items]
    top = max(values, default=Decimal(0)) or Decimal(1)
    bars = [
        {
            "name": item["name"],
            "amount": item["earnings"]["amount"],
            "y": 22 * i,
            "width": int(value / top * scale),
        }
        for i, (item, value) in enumerate(zip(items, values, strict=True))
    ]
    return {"bars": bars, "height": 22 * len(bars) + 4}
