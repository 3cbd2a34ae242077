"""Rates as a royalty team speaks of them (25 %) and as they are stored (the fraction 0.25): one
conversion, used by the forms, the admin, the API schemas and the services alike."""

from decimal import Decimal

from statements.royalties.models import RATE

# A percent keeps every digit the stored fraction can hold: two fewer decimal places.
PERCENT = {"max_digits": RATE["max_digits"], "decimal_places": RATE["decimal_places"] - 2}


def percent_of(fraction: Decimal | None) -> Decimal | None:
    """0.25 → 25: moving the decimal point is exact, no division."""
    return None if fraction is None else fraction.scaleb(2).normalize() + 0


def fraction_of(percent: Decimal | None) -> Decimal | None:
    """25 → 0.25, exactly."""
    return None if percent is None else percent.scaleb(-2)
