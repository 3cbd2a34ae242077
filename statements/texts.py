"""Why a sales file failed, stored as a code with parameters (`project.stored_text`) so that the
run page shows it in the reader's language. The cleaners' own reasons (an unknown layout, a line
the csv module cannot read) are sentences without a code: they show as stored."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from project.stored_text import Catalogue, Text

if TYPE_CHECKING:
    from statements.cleaners.base import Problem

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
    "binary_content": _("unknown format: binary content (a zip/xlsx export?); upload the sales data as CSV"),
    "unknown_profile": _("unknown format: no import profile %(profile)s (profiles: %(known)s)"),
    "unknown_layout": _(
        "unknown format: no import profile matches the header row (line %(line)s: %(shown)s); "
        'profiles tried: %(tried)s. Map its columns (the run page\'s "Map columns"), or add an '
        "import profile for this layout in the admin, then process the file again."
    ),
}

CATALOGUE = Catalogue(TEMPLATES)


def text(code: str, **params) -> Text:
    assert code in TEMPLATES, code
    return Text(code, params)


def fatal(at_line: int, code: str, **params) -> "Problem":
    """A cleaner's fatal Problem whose reason the run page translates."""
    from statements.cleaners.base import Problem  # the cleaners import this module

    reason = text(code, **params)
    return Problem(at_line, CATALOGUE.english(reason), fatal=True, text=reason)
