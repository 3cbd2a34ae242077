"""`{{ status|status_label }}`: a run's or sales file's status (a code in the JSON the page shares
with the API) as the reader's words; `{{ line.sale_type|sale_type_label }}` the same for a sales
line's sale type, `{{ basis|revenue_basis_label }}` for a DSR file's revenue basis, and
`{{ warning|warning_text }}` a sales file's stored warning (statements.texts.warning_text)."""

from django import template
from django.utils.translation import pgettext_lazy

from statements.models import RevenueBasis, SalesFileStatus
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
