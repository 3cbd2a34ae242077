"""`{{ status|status_label }}`: a run's or sales file's status (a code in the JSON the page shares
with the API) as the reader's words; `{{ line.sale_type|sale_type_label }}` the same for a sales
line's sale type, `{{ basis|revenue_basis_label }}` for a DSR file's revenue basis, and
`{{ warning|warning_text }}` a sales file's stored warning (statements.texts.warning_text),
`{{ problem|problem_text }}` what stops a run's royalty statements (statements.royalties.problems), and
`{{ file.declared|declared_items }}` what a file says of itself (its totals rows, trailer, DSR
footer) as (label, value) pairs in the reader's words."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from project.money import minor_unit
from statements.models import RevenueBasis, SalesFileStatus
from statements.royalties.problems import problem_text as _problem_text
from statements.selectors import RunStatus
from statements.texts import warning_text as _warning_text

register = template.Library()

LABELS = {**dict(SalesFileStatus.choices), **dict(RunStatus.choices)}
BASES = dict(RevenueBasis.choices)


@register.filter
def status_label(value: str) -> str:
    return str(LABELS.get(value, value))


# statements.royalties.models.SALE_TYPES, as readers say them.
SALE_TYPES = {
    "stream": pgettext_lazy("sale type", "stream"),
    "download": pgettext_lazy("sale type", "download"),
    "physical": pgettext_lazy("sale type", "physical"),
    "other": pgettext_lazy("sale type", "other"),
}


@register.filter
def sale_type_label(value: str) -> str:
    return str(SALE_TYPES.get(value, value))


@register.filter
def revenue_basis_label(value: str) -> str:
    """A DDEX DSR revenue basis (the API's code) as the reader's words."""
    return str(BASES.get(value, value))


@register.filter
def warning_text(value: str) -> str:
    """A sales file's warning (stored in English) in the reader's language."""
    return _warning_text(value)


@register.filter
def problem_text(value: str) -> str:
    """What stops a run's royalty statements (stored in English) in the reader's language."""
    return _problem_text(value)


# The keys the cleaners write into SalesFile.declared (delimited totals rows and trailers, the DSR
# HEAD/FOOT/summaries, ClicknClear's totals).
DECLARED = {
    "units": _("units"),
    "revenue": _("revenue"),
    "message_units": _("units of the whole message"),
    "message_revenue": _("revenue of the whole message"),
    "totals_rows": _("totals rows"),
    "trailer": _("trailer"),
    "lines": _("lines"),
    "summary_records": _("summary records"),
    "blocks": _("blocks"),
    "profile": _("profile"),
    "profile_version": _("profile version"),
    "file_number": _("file number"),
    "number_of_files": _("number of files"),
    "totals": _("totals"),
    "sales": _("sales"),
    "due": _("due"),
}


def _label(key: str) -> str:
    return str(DECLARED.get(key, key.replace("_", " ")))


def _declared_value(value) -> str:
    if isinstance(value, dict) and "currency" in value:
        # ClicknClear's totals per income type: {sales (a count), due (an amount), currency}.
        code = value["currency"]
        return ", ".join(
            f"{_label(key)} {_exact(item, code)} {_currency(code)}"
            if key == "due"
            else f"{_label(key)} {item}"
            for key, item in value.items()
            if key != "currency"
        )
    if isinstance(value, dict) and all(isinstance(v, str | int) for v in value.values()):
        # {currency: exact amount}: every digit the file wrote, grouped as the reader groups.
        return "; ".join(
            f"{_exact(amount, currency)} {_currency(currency)}" for currency, amount in value.items()
        )
    if isinstance(value, dict):
        return "; ".join(f"{_label(key)}: {_declared_value(item)}" for key, item in value.items())
    if isinstance(value, list):
        return " / ".join(str(item) for item in value)
    return _exact(value, "")


def _currency(code: str) -> str:
    return str(_("currency not given")) if code in ("", "?") else code


def _exact(amount, currency: str) -> str:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    if not value.is_finite():
        return str(amount)
    places = max(-value.as_tuple().exponent, minor_unit(currency) if currency not in ("", "?") else 0, 0)
    return number_format(value, places, use_l10n=True, force_grouping=True)


@register.filter
def declared_items(declared: dict) -> list[tuple[str, str]]:
    return [
        (str(DECLARED.get(key, key.replace("_", " "))), _declared_value(value))
        for key, value in declared.items()
    ]
