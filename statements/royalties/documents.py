"""Payee statement documents: PDF (a Django template rendered by WeasyPrint), xlsx (openpyxl, the
line detail) and a zip of every payee's documents; and the context the PDF and the payee's page
share (head, summary, charts, breakdowns).

Charts are HTML: one row per bar, its label in a cell left of the bar and its value in a cell right
of it, so a long label wraps in its own cell instead of running into its neighbours (the SVG chart
drew labels at fixed positions: long DSP names overlapped and no values were shown)."""

import base64
import io
import json
import mimetypes
import zipfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from statements.royalties import presentation
from statements.royalties.presentation import SUMMARY

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
    return render_pdf("statements/royalty_statement.html", statement_context(run, statement))


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
    exchange = statement["exchange"]
    if exchange:
        rate = f"1 {exchange['from']} = {exchange['rate']} {exchange['to']}"
        summary.append(["Exchange rate", rate, exchange["source"], exchange["date"]])
        earned = statement["run_earnings"]
        summary.append([f"Earnings in {exchange['from']}", Decimal(earned["amount"]), earned["exact"]])
    summary.append(["Figure", "Amount", "Exact"])
    with translation.override(settings.LANGUAGE_CODE):
        labels = {name: str(label) for name, label in SUMMARY_LABELS.items()}
    for name, label in labels.items():
        item = statement["summary"][name]
        summary.append([label, Decimal(item["amount"]), item["exact"]])
    lines = book.create_sheet("Lines")
    columns = list(presentation.LINE_FIELDS)
    converted = [f"earnings_{exchange['from']}", f"earnings_{exchange['from']}_exact"] if exchange else []
    lines.append([*columns, "earnings", "earnings_exact", *converted])
    for row in statement["lines"]:
        values = [row[c] for c in columns]
        # Amounts as numbers for spreadsheet sums; the exact text beside the rounded figure.
        values[9:12] = [Decimal(row["base"]), Decimal(row["rate"]), Decimal(row["share"])]
        values += [Decimal(row["earnings"]["amount"]), row["earnings"]["exact"]]
        if exchange:
            values += [Decimal(row["run_earnings"]["amount"]), row["run_earnings"]["exact"]]
        lines.append(values)
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


ADVANCE_LABELS = {
    "outstanding": _("Advances outstanding before this statement"),
    "recouped": _("Recouped from these earnings"),
    "remaining": _("Advances still to recoup"),
}


def statement_context(run: dict, statement: dict) -> dict:
    """What the PDF and the payee's page show: the label, the payee, the run and its months, the
    summary with the advances, the charts and the breakdown tables."""
    return {
        "run_data": run,  # a page's `run` is the model
        "label": label(),
        "statement": statement,
        "payee_lines": _address_lines(statement["payee"]),
        "summary": [
            (name, SUMMARY_LABELS[name], statement["summary"][name]) for name in (*SUMMARY, "carried_forward")
        ],
        "advances": [
            (ADVANCE_LABELS[name], item) for name, item in (statement.get("advances") or {}).items()
        ],
        "charts": [
            (_("Earnings by DSP"), bars(statement["by_dsp"])["bars"]),
            (_("Earnings by month"), bars(statement["by_month"])["bars"]),
        ],
        "tables": [
            (_("Earnings by DSP"), _("DSP"), statement["by_dsp"]),
            (_("Earnings by month"), _("Month"), statement["by_month"]),
            (_("Earnings by territory"), _("Territory"), statement["by_territory"]),
            (_("Earnings by track"), _("Track"), statement["by_track"]),
        ],
    }


def _address_lines(details: dict) -> list[str]:
    lines = [line.strip() for line in details.get("address", "").splitlines() if line.strip()]
    if details.get("country"):
        lines.append(details["country"])
    return lines


def label() -> dict:
    """The label on the head of every statement (`presentation.label`): its address as lines, its
    logo inlined as a data URI, so the PDF and the page need no file access to show it."""
    found = presentation.label()
    logo = ""
    path = Path(found["logo"]) if found["logo"] else None
    if path is not None and path.is_file():
        kind = mimetypes.guess_type(path.name)[0] or "image/png"
        logo = f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"
    address = [line.strip() for line in found["address"].splitlines() if line.strip()]
    return {**found, "address": address, "logo": logo}


def bars(items: list[dict], scale: int = 100) -> dict:
    """Bar lengths for a chart, the longest `scale` (percent by default): proportional to the exact
    figures, negatives drawn as zero."""
    values = [max(Decimal(item["earnings"]["exact"]), Decimal(0)) for item in items]
    top = max(values, default=Decimal(0)) or Decimal(1)
    return {
        "bars": [
            {"name": item["name"], "amount": item["earnings"]["amount"], "width": int(value / top * scale)}
            for item, value in zip(items, values, strict=True)
        ]
    }
