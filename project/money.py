"""Money rules: amounts stay exact (Decimal, never rounded per line) until a figure is presented,
which is rounded once, half-even, to its currency's minor unit (the statements, the admin)."""

from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import cache

import iso4217

# Wide enough that a product of a NUMERIC(30, 16) sum and a NUMERIC(24, 10) rate, and sums of
# millions of them, are exact: Decimal's default 28 digits would round them silently.
EXACT = Context(prec=100)
DEFAULT_MINOR_UNIT = 2


@cache
def minor_unit(currency: str) -> int:
    """Decimal places of the currency's minor unit (ISO 4217 exponent: EUR 2, JPY 0, KWD 3); 2 for a
    code the standard does not know or gives no minor unit (XAU)."""
    try:
        exponent = iso4217.Currency(currency).exponent
    except ValueError:
        return DEFAULT_MINOR_UNIT
    return DEFAULT_MINOR_UNIT if exponent is None else exponent


@cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def rounded(amount: Decimal, currency: str) -> Decimal:
    """`amount` as presented: half-even to the minor unit; adding zero turns "-0.00" into "0.00"."""
    return amount.quantize(_quantum(currency), ROUND_HALF_EVEN) + 0


def exact_text(amount: Decimal) -> str:
    """An exact amount as text: no exponent, no needless trailing zeros."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
