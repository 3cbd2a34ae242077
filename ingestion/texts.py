"""Why an invoice file was not imported and why a record of it is invalid, stored as codes with
parameters (`project.stored_text`) beside the English sentence, so that operators read them in
their language: the manual upload's message, the session's failure, the alert mails, the admin."""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from project.stored_text import Catalogue, Text

TEMPLATES = {
    # The file's reason (InvoiceFile.reason)
    "duplicate": _("same content as %(original)s, received %(received)s"),
    "closed_day": _("the session for %(day)s is closed: the file was archived, not imported"),
    "binary": _("not a text file: it holds binary data (an image, an archive?), not invoice records"),
    "record_count": ngettext_lazy(
        "the file has %(records)s record but its name declares %(declared)s, so %(expected)s were"
        " expected (N + 1)",
        "the file has %(records)s records but its name declares %(declared)s, so %(expected)s were"
        " expected (N + 1)",
        "records",
    ),
    # A record's reason (InvoiceFile.invalid_lines)
    "blank_line": _("blank line"),
    "field_count": _("expected 4 fields separated by '|', found %(found)s"),
    "invoice_number_length": _("invoice number %(value)s must be exactly 9 characters"),
    "nul_character": _("the record contains a NUL character"),
    "quantity_not_integer": _("quantity %(value)s is not an integer"),
    "quantity_out_of_range": _("quantity %(value)s is out of range"),
    "value_not_number": _("value %(value)s is not a number with a dot as decimal separator"),
    "value_decimals": _("value %(value)s has more than two decimals"),
    "value_out_of_range": _("value %(value)s is out of range"),
    "category_too_long": _("category %(value)s… is longer than %(limit)s characters"),
}

CATALOGUE = Catalogue(TEMPLATES)


def text(code: str, **params) -> Text:
    assert code in TEMPLATES, code
    return Text(code, params)


def line_reason(item: dict) -> str:
    """An invalid record's reason ({"line", "reason", "code"?, "params"?}) in the active language."""
    return CATALOGUE.render(item.get("code", ""), item.get("params"), item.get("reason", ""))


# What one poll of the inbound FTP server did (FtpPoll.details): each file's outcome, the others.
POLL_OUTCOMES = {
    "imported": pgettext_lazy("ftp poll", "imported"),
    "rejected": pgettext_lazy("ftp poll", "rejected"),
    "duplicate": pgettext_lazy("ftp poll", "duplicate"),
    "closed_day": pgettext_lazy("ftp poll", "day already closed"),
    "conflict": pgettext_lazy(
        "ftp poll", "differs from the file received under that name: left on the server"
    ),
    "failed": pgettext_lazy("ftp poll", "failed"),
}
POLL_PARTS = {
    "file": _("%(name)s: %(outcome)s"),
    "skipped": ngettext_lazy("%(count)s other file left alone", "%(count)s other files left alone", "count"),
    "server_error": _("server error: %(error)s"),
    "alert_sent": _("no-file alert sent"),
}


def poll_summary(details: dict) -> str:
    """A poll's details ({"files": {name: outcome}, "skipped", "error", "alert_sent"}) in one line
    of the active language."""
    parts = [
        str(POLL_PARTS["file"]) % {"name": name, "outcome": POLL_OUTCOMES.get(outcome, outcome)}
        for name, outcome in details.get("files", {}).items()
    ]
    skipped = details.get("skipped", 0)
    parts.append(POLL_PARTS["skipped"] % {"count": skipped})
    if details.get("error"):
        parts.append(str(POLL_PARTS["server_error"]) % {"error": details["error"]})
    if details.get("alert_sent"):
        parts.append(str(POLL_PARTS["alert_sent"]))
    return "; ".join(parts)


# For a mail's context: rendered when the template is, in the mail's language.
lazy_line_reason = lazy(line_reason, str)
