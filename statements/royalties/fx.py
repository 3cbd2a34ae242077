"""Payees in their own currency: the run's rate for each payee currency (`PayeeRate`), which payee
currencies still lack one, and the conversion of a run-currency amount (exact: a product, never a
quotient, so every digit is kept until a figure is presented)."""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from project.money import EXACT
from statements.models import StatementRun
from statements.royalties.models import Payee
from statements.royalties.problems import problem


def payee_rates(run: StatementRun) -> dict[str, Decimal]:
    """{payee currency: units of it per unit of the run's currency}."""
    return dict(run.payee_rates.values_list("currency", "rate"))


def unrated(run: StatementRun, payees: Iterable[Payee], rates: dict[str, Decimal]) -> dict[str, list[str]]:
    """{currency: names of its payees} for each payee currency other than the run's without a rate."""
    missing = defaultdict(list)
    for payee in payees:
        if payee.currency != run.currency and payee.currency not in rates:
            missing[payee.currency].append(payee.name)
    return {currency: sorted(names) for currency, names in sorted(missing.items())}


def missing_rates_problem(run: StatementRun, missing: dict[str, list[str]]) -> str:
    """What stops finalisation while payee currencies lack a rate, naming them and their payees."""
    named = "; ".join(f"{currency} ({', '.join(names)})" for currency, names in missing.items())
    return problem("payee_rates_missing", currency=run.currency, currencies=", ".join(missing), payees=named)


def convert(amount: Decimal, rate: Decimal | None) -> Decimal:
    """`amount` in the run's currency, in the payee's (`rate` None: the same currency)."""
    return amount if rate is None else EXACT.multiply(amount, rate)
