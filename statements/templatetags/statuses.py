"""`{{ status|status_label }}`: a run's or sales file's status (a code in the JSON the page shares
with the API) as the reader's words."""

from django import template

from statements.models import SalesFileStatus
from statements.selectors import RunStatus

register = template.Library()

LABELS = {**dict(SalesFileStatus.choices), **dict(RunStatus.choices)}


@register.filter
def status_label(value: str) -> str:
    return str(LABELS.get(value, value))
