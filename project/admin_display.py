"""How the admin shows the values staff read: money with its currency (rounded to the minor unit in
lists, exact on the detail page), shares as percentages, JSON as lists and tables, never raw."""

from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from project.money import exact_text, minor_unit, rounded

EMPTY = "-"  # as the admin shows an empty value


def money(amount: Decimal | None, currency: str, *, exact: bool = False) -> str:
    """`-50.00 EUR`: half-even to the currency's minor unit, or with every digit the amount has
    (at least the minor unit's) when `exact`; grouped and localised like the rest of the page."""
    if amount is None:
        return EMPTY
    places = minor_unit(currency)
    if exact:
        kept = Decimal(exact_text(amount))
        places = max(places, -kept.as_tuple().exponent)
        return f"{number_format(kept, places, force_grouping=True)} {currency}"
    return f"{number_format(rounded(amount, currency), places, force_grouping=True)} {currency}"


def percent(share: Decimal | None) -> str:
    """A share stored as a fraction (0.5) as a percentage with every digit it has: `50 %`."""
    if share is None:
        return EMPTY
    value = Decimal(exact_text(share * 100))
    return f"{number_format(value, max(-value.as_tuple().exponent, 0), force_grouping=True)} %"


def number(value: Decimal | None) -> str:
    """A decimal (an exchange rate) without the column's padding zeros: `1.0876`, not `1.0876000000`."""
    if value is None:
        return EMPTY
    kept = Decimal(exact_text(value))
    return number_format(kept, max(-kept.as_tuple().exponent, 0), force_grouping=True)


def readable(value: Any) -> SafeString:
    """JSON as staff read it (escaped HTML): a list of plain values as one comma-separated line, a
    list of objects or an object as a table (nested ones too), nothing as a dash."""
    if value in (None, "", [], {}):
        return conditional_escape(EMPTY)
    if isinstance(value, dict):
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", ((k, readable(v)) for k, v in value.items())
        )
        return format_html('<table class="readable">{}</table>', rows)
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        return conditional_escape(", ".join(str(item) for item in value))
    if isinstance(value, list):
        items = format_html_join("", "<li>{}</li>", ((readable(item),) for item in value))
        return format_html('<ul class="readable">{}</ul>', items)
    if isinstance(value, bool):
        return conditional_escape(_("yes") if value else _("no"))
    return conditional_escape(value)
