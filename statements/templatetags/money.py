"""`{{ amount|money:currency }}`: an exact amount (text or Decimal) as presented, rounded once,
half-even, to the currency's minor unit (`project.money.rounded`)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

from project.money import minor_unit, rounded

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    try:
        value = rounded(Decimal(str(amount)), currency)
    except (InvalidOperation, ValueError):
        return str(amount)
    return number_format(value, minor_unit(currency), use_l10n=True, force_grouping=True)
