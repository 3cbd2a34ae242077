"""Why a sales file failed, stored as a code with parameters (`project.stored_text`) so that the
run page shows it in the reader's language, and why a line was rejected (the delimited and DSR
cleaners' value rules: `reject`, `rejected`; a reason quoting another, `nested`) and ClicknClear's layout
checks.

A file's warnings are stored as English sentences (the API's and the rejected-lines report's
language); `warning_text` shows one in the reader's language by matching it against the English of
`WARNINGS` — the sentences the cleaners and the import write — and rendering the match's
parameters in the reader's template. A sentence that matches none shows as stored.
"""

import json
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from project.stored_text import Catalogue, Text

if TYPE_CHECKING:
    from statements.cleaners.base import Problem, Reject

TEMPLATES = {
    "too_large": _(
        "the uploaded file is %(size)s bytes, over the %(limit)s-byte limit (STATEMENTS_MAX_UPLOAD_BYTES)"
    ),
    "cleaning_failed": _("cleaning failed: %(error)s"),
    "cleaning_internal_error": _("cleaning failed (internal error): %(error)s"),
    "import_failed": _("import failed: %(error)s"),
    "no_valid_lines": ngettext_lazy(
        "no valid sales lines: %(rejected)s line rejected",
        "no valid sales lines: %(rejected)s lines rejected",
        "rejected",
    ),
    "no_valid_lines_first": ngettext_lazy(
        "no valid sales lines: %(rejected)s line rejected (first: %(first)s)",
        "no valid sales lines: %(rejected)s lines rejected (first: %(first)s)",
        "rejected",
    ),
    "not_reconciled": _(
        "reconciliation failed: the imported and rejected lines do not add up to the file's amounts"
        " (difference %(difference)s)"
    ),
}

# The cleaners' reasons a whole file fails for (statements.cleaners), as users most often meet them.
TEMPLATES |= {
    "file_empty": _("the file is empty"),
    "binary_content": _(
        "unknown format: binary content (an .xls workbook or another program's file?); "
        "upload the sales report as CSV, TSV or XLSX"
    ),
    "archive_unknown": _(
        "unknown format: no file in this zip archive is a sales report a profile reads (%(members)s); "
        "upload the report itself"
    ),
    "unknown_profile": _("unknown format: no import profile %(profile)s (profiles: %(known)s)"),
    "unknown_layout": _(
        "unknown format: no import profile matches the header row (line %(line)s: %(shown)s); "
        'profiles tried: %(tried)s. Map its columns (the run page\'s "Map columns"), or add an '
        "import profile for this layout in the admin, then process the file again."
    ),
}

# Rarer reasons a whole file fails for.
TEMPLATES |= {
    "line_too_long": _("a line is longer than %(limit)s MiB: not a text sales file"),
    "profile_columns_missing": _(
        "import profile %(profile)s: the report gives no %(missing)s (no column in the header on line "
        "%(line)s, no preamble line and no default)"
    ),
    "preamble_invalid": _("preamble: %(error)s"),
    "dsr_second_head": _("a second HEAD record: upload each file of a multi-file DSR message on its own"),
    "dsr_no_head": _("the file does not start with a DSR HEAD record (%(kind)s)"),
    "dsr_empty": _("the file is empty: no DSR HEAD record"),
    "dsr_truncated": _("the DSR file ends without a FOOT record: truncated?"),
    "dsr_head_start": _("HEAD UsageStartDate %(value)s is not a date (YYYY-MM-DD)"),
    "dsr_head_invalid": _("HEAD: %(error)s"),
    "dsr_head_no_sender": _("HEAD names no sender (SenderName, ServiceDescription or SenderPartyId)"),
    "dsr_too_many_summaries": _("more than %(limit)s summary records"),
    "dsr_block_too_long": _("block %(block)s has more than %(limit)s records"),
}

# Why a line is rejected (the rejected-lines report), as the delimited cleaners say it.
TEMPLATES |= {
    "line_fields_missing": _("expected at least %(width)s fields, found %(count)s"),
    "line_unreadable_csv": _("unreadable CSV: %(error)s"),
    "period_empty": _("period is empty"),
    "period_invalid": _("period %(value)s is not a month or a date"),
    "currency_empty": _("currency is empty"),
    "currency_invalid": _("currency %(value)s is not an ISO 4217 code"),
    "text_nul": _("%(field)s contains a NUL character"),
    "text_empty": _("%(field)s is empty"),
    "text_too_long": _("%(field)s is longer than %(limit)s characters"),
    "isrc_invalid": _("ISRC %(value)s is not a valid ISRC"),
    "upc_invalid": _("UPC %(value)s is not 8 to 14 digits"),
    "units_empty": _("units is empty"),
    "units_not_whole": _("units %(value)s is not a whole number"),
    "units_out_of_range": _("units %(value)s is out of range"),
    "revenue_not_number": _("revenue %(value)s is not a number"),
    "revenue_out_of_range": _("revenue %(value)s is out of range"),
    # The DSR cleaner's (statements.cleaners.dsr)
    "icpn_invalid": _("ICPN %(value)s is not 8 to 14 digits"),
    "number_not_whole": _("%(name)s %(value)s is not a whole number"),
    "number_out_of_range": _("%(name)s %(value)s is out of range"),
    "number_invalid": _("%(name)s %(value)s is not a number"),
    "summary_unknown": _("usage of an unknown summary record %(id)s"),
    "summary_invalid": _("its summary record (line %(line)s) is invalid: %(error)s"),
    "summary_record_invalid": _("summary record %(id)s: %(error)s"),
    "release_not_described": _("usage of release %(id)s, not described in block %(block)s"),
    "resource_not_described": _("usage of resource %(id)s, not described in block %(block)s"),
    "block_without_subject": _("usage in block %(block)s, which describes no release or resource"),
    "li_without_usage": _("LI record without a usage record before it"),
    "summary_repeated": _("its summary record id is used by several summary records: no revenue to share"),
    "no_revenue": _("neither the usage nor its summary record carries revenue"),
    "revenue_without_usages": _("its summary record carries revenue but no usages to share it by"),
    "share_out_of_range": _("its share of the summary's revenue is out of range"),
    "line_after_foot": _("line after the FOOT record"),
    # ClicknClear's layout checks (statements.cleaners.clicknclear)
    "clicknclear_no_layout": _(
        "row type %(kind)s / income type %(income)s has no layout in the ClicknClear spec"
    ),
    "clicknclear_fields": _("a %(income)s sale row has %(expected)s fields, found %(count)s"),
    # A first rejected line quoted in a file's failure (no_valid_lines_first)
    "line_reason": _("line %(line)s: %(reason)s"),
}

# The text fields a reason names (profiles.MAX_TEXT), in the reader's words.
FIELD_NAMES = {
    "dsp": pgettext_lazy("sales field", "dsp"),
    "artist": pgettext_lazy("sales field", "artist"),
    "title": pgettext_lazy("sales field", "title"),
    "release": pgettext_lazy("sales field", "release"),
    "use_type": pgettext_lazy("sales field", "use type"),
    "commercial_model": pgettext_lazy("sales field", "commercial model"),
}


def _prepare(params: dict) -> dict:
    """A field by its name in the reader's language; a quoted rejected line rendered."""
    if "field" in params:
        params["field"] = FIELD_NAMES.get(params["field"], params["field"])
    for name in ("first", "reason", "error"):  # a quoted rejected line, its reason, a nested error
        nested = params.get(name)
        if isinstance(nested, dict):
            params[name] = CATALOGUE.render(
                nested.get("code", ""), nested.get("params"), nested.get("text", "")
            )
    return params


CATALOGUE = Catalogue(TEMPLATES, prepare=_prepare)


def text(code: str, **params) -> Text:
    assert code in TEMPLATES, code
    return Text(code, params)


def reject(code: str, **params) -> "Reject":
    """The Reject a cleaner's value rule raises: its English reason, and the code the run page
    translates (`Reject.text`)."""
    from statements.cleaners.base import Reject  # the cleaners import this module

    reason = text(code, **params)
    error = Reject(CATALOGUE.english(reason))
    error.text = reason
    return error


def rejected(at_line: int, code: str, **params) -> "Problem":
    """A cleaner's rejected line whose reason the run page translates."""
    from statements.cleaners.base import Problem

    reason = text(code, **params)
    return Problem(at_line, CATALOGUE.english(reason), text=reason)


def nested(error: "Reject") -> dict:
    """A Reject quoted inside another message (its code, parameters and English sentence)."""
    if error.text is None:
        return {"text": str(error)}
    return {"code": error.text.code, "params": error.text.params, "text": str(error)}


def line_reason(reason: str, code: str = "", params: str = "") -> str:
    """A rejected-lines report row's reason (English reason, code, parameters as JSON) in the
    active language; a report written before the codes has no code."""
    try:
        values = json.loads(params) if params else {}
    except ValueError:
        values = None
    return CATALOGUE.render(code, values, reason) if isinstance(values, dict) else reason


def fatal(at_line: int, code: str, **params) -> "Problem":
    """A cleaner's fatal Problem whose reason the run page translates."""
    from statements.cleaners.base import Problem  # the cleaners import this module

    reason = text(code, **params)
    return Problem(at_line, CATALOGUE.english(reason), fatal=True, text=reason)


# The warnings of the cleaners (statements.cleaners) and of the import (statements.services,
# statements.duplicates), in English exactly as they write them.
WARNINGS = {
    "unknown_territory": _(
        "territory %(value)s is not an ISO 3166 country: kept as unknown (ZZ) on %(count)s line(s)"
    ),
    "isrc_kept": _("ISRC %(value)s is not a valid ISRC: the line is kept without it on %(count)s line(s)"),
    "upc_kept": _("UPC %(value)s is not 8 to 14 digits: the line is kept without it on %(count)s line(s)"),
    "icpn_kept": _("ICPN %(value)s is not 8 to 14 digits: the line is kept without it on %(count)s line(s)"),
    "upc_destroyed": _(
        "UPC %(value)s was destroyed by a spreadsheet (rounded to a number in E notation): the line is "
        "kept without it on %(count)s line(s)"
    ),
    "isrc_destroyed": _(
        "ISRC %(value)s was destroyed by a spreadsheet (rounded to a number in E notation): the line is "
        "kept without it on %(count)s line(s)"
    ),
    "no_artist": _(
        "no display artist for the usage's resource or release: the line is kept without one on "
        "%(count)s line(s)"
    ),
    "skip_marker": _("%(count)s row(s) holding %(marker)s skipped: no sales (the profile's skip markers)"),
    "trailer": _("a text trailer of %(count)s line(s) follows the sales; structure, not sales: %(shown)s"),
    "summary_table": _(
        "line %(line)s: a summary table follows the sales (%(names)s); its rows are totals, not read as sales"
    ),
    "basis_fallback": _(
        "%(count)s usage lines carry no %(column)s (no LI record with it): their revenue is the usage "
        "record's NetRevenue"
    ),
    "text_kept": _(
        "%(field)s is longer than %(limit)s characters: the line is kept without it on %(count)s line(s)"
    ),
    "units_empty_kept": _(
        "no units written beside the amount: counted as 0, the amount is kept on %(count)s line(s)"
    ),
    "foot_no_lines": _("FOOT does not declare the number of lines in the file"),
    "foot_no_summaries": _("FOOT does not declare the number of summary records"),
    "foot_no_blocks": _("FOOT does not declare the number of blocks in the file"),
    "foot_lines_not_whole": _("FOOT number of lines in the file %(value)s is not a whole number"),
    "foot_summaries_not_whole": _("FOOT number of summary records %(value)s is not a whole number"),
    "foot_blocks_not_whole": _("FOOT number of blocks in the file %(value)s is not a whole number"),
    "foot_lines": _("FOOT declares %(declared)s lines in the file but the file has %(counted)s"),
    "foot_summaries": _("FOOT declares %(declared)s summary records but the file has %(counted)s"),
    "foot_blocks": _("FOOT declares %(declared)s blocks in the file but the file has %(counted)s"),
    "foot_report_lines": _(
        "FOOT declares %(declared)s lines in the report but this single-file report has %(counted)s"
    ),
    "foot_report_blocks": _(
        "FOOT declares %(declared)s blocks in the report but this single-file report has %(counted)s"
    ),
    "summary_usages": _(
        "summary record %(id)s (line %(line)s) declares %(declared)s usages but its usage lines add up to "
        "%(counted)s"
    ),
    "more_summaries": _("… and %(count)s more summary records like these"),
    "declared_differs": _(
        "the file declares %(currency)s %(declared)s in its own totals; its imported lines hold "
        "%(currency)s %(imported)s"
    ),
    "clicknclear_totals": _(
        "the %(income)s totals row declares %(declared)s sale(s) and %(due)s due; the sales rows hold "
        "%(sales)s and %(found)s"
    ),
    "looks_like_duplicate": _(
        "looks like a duplicate of sales file #%(id)s %(name)s (statement run %(runs)s): the same DSPs, "
        "periods and totals per currency"
    ),
}
WARNING_CATALOGUE = Catalogue(WARNINGS)


def warning_text(stored: str) -> str:
    """A stored warning in the reader's language (as stored when no template matches it)."""
    return WARNING_CATALOGUE.translated(stored)
