"""Why a sales file failed, stored as a code with parameters (`project.stored_text`) so that the
run page shows it in the reader's language. The cleaners' own reasons (an unknown layout, a line
the csv module cannot read) are sentences without a code: they show as stored."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from project.stored_text import Catalogue, Text

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

CATALOGUE = Catalogue(TEMPLATES)


def text(code: str, **params) -> Text:
    assert code in TEMPLATES, code
    return Text(code, params)
