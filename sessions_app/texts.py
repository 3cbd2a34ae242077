"""What a session's steps and failures say, stored as codes with parameters (`project.stored_text`)
so that operators read them in their language: the session log, the failure on the page and in
the alert mail."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from ingestion import texts as ingestion_texts
from project.stored_text import Catalogue, Text

TEMPLATES = {
    "started_by": _("started by %(who)s for %(file)s"),
    "run_started": _("started"),
    "run_resumed": _("resumed (%(status)s before)"),
    "run_started_after_failure": _("started; previous failure: %(previous)s"),
    "run_resumed_after_failure": _("resumed (%(status)s before); previous failure: %(previous)s"),
    "generating": ngettext_lazy(
        "%(total)s line to generate; invoices not found: %(not_found)s, in the past: %(past)s",
        "%(total)s lines to generate; invoices not found: %(not_found)s, in the past: %(past)s",
        "total",
    ),
    "generated": ngettext_lazy("%(csv)s: %(total)s line", "%(csv)s: %(total)s lines", "total"),
    "already_generated": _("%(csv)s already generated"),
    "uploading": _("uploading %(csv)s to %(host)s"),
    "uploaded": _("%(csv)s uploaded to %(host)s"),
    "already_uploaded": _("%(csv)s already uploaded"),
    "upload_found_in_log": _("%(csv)s not uploaded again: the remote log already reports it"),
    "waiting_for_log": _("waiting up to %(timeout)s s for %(csv)s in %(path)s"),
    "log_line": _("remote log: %(line)s"),
    "result_queued": _("result email queued for %(recipients)s"),
    "closed_by": _("closed by %(who)s"),
    "force_closed_by": _("force-closed by %(who)s"),
    "reopened_by": _("reopened by %(who)s: %(reason)s"),
    # Failures (the session's reason and its failed step)
    "invalid_file": _("invalid file: %(file)s is %(status)s: %(reason)s"),
    "bad_csv_fields": _("SESSIONS_CSV_FIELDS has unknown or no fields: %(fields)s"),
    "nothing_to_generate": _(
        "nothing to generate: no line of %(file)s has a known, current invoice"
        " (%(not_found)s not found, %(past)s in the past)"
    ),
    "upload_failed": _("FTP upload of %(csv)s to %(host)s failed: %(error)s"),
    "log_timeout": _("timeout: no line about %(csv)s in the remote log after %(timeout)s s"),
    "log_timeout_error": _(
        "timeout: no line about %(csv)s in the remote log after %(timeout)s s (last error: %(error)s)"
    ),
    "records_missing": _(
        "the receiver read %(records)s of the %(total)s records in %(csv)s (%(missing)s missing or unread)"
    ),
    "records_extra": _(
        "the receiver read %(records)s of the %(total)s records in %(csv)s (%(extra)s more than generated)"
    ),
    "force_closed_before_end": _("force-closed by %(who)s before the run finished"),
    "unexpected_error": _("unexpected error: %(error)s"),
}


def _prepare(params: dict) -> dict:
    """Who did it ("" is the command line), statuses by label, nested stored messages rendered."""
    from ingestion.models import InvoiceFile
    from sessions_app.models import Session

    if params.get("who") == "":
        params["who"] = _("command line")
    if "status" in params:
        labels = dict(Session.Status.choices) | dict(InvoiceFile.Status.choices)
        params["status"] = labels.get(params["status"], params["status"])
    # Stored messages inside this one: an earlier failure, an invoice file's reason.
    for name, catalogue in (("previous", CATALOGUE), ("reason", ingestion_texts.CATALOGUE)):
        nested = params.get(name)
        if isinstance(nested, dict):
            params[name] = catalogue.render(
                nested.get("code", ""), nested.get("params"), nested.get("text", "")
            )
    return params


CATALOGUE = Catalogue(TEMPLATES, prepare=_prepare)


def text(code: str, **params) -> Text:
    assert code in TEMPLATES, code
    return Text(code, params)


def english(value: "Text | str") -> str:
    return CATALOGUE.english(value) if isinstance(value, Text) else value
