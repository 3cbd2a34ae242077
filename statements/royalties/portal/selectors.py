"""Reads of the payee portal: only one payee's data, only from finalised runs (a draft's statements
are never read here): the payee's rows of the finalised statement sets, presented as the staff
pages and documents present them (`presentation`)."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet

from project.errors import NotFound
from project.money import EXACT
from statements.royalties.documents import bars
from statements.royalties.models import (
    PAYMENT_DETAILS,
    Payee,
    PaymentBatch,
    PaymentDetailsChange,
    PaymentLine,
    RoyaltyStatement,
    SelfBillingInvoice,
)
from statements.royalties.portal.models import PortalAccount
from statements.royalties.presentation import PayeeLines, figure, payee_statement_data, run_data
from statements.royalties.selectors import ledger_balances


def account_of(user) -> PortalAccount | None:
    return PortalAccount.objects.select_related("payee").filter(user=user, user__is_staff=False).first()


def _finalised(payee: Payee) -> QuerySet[RoyaltyStatement]:
    return (
        RoyaltyStatement.objects.filter(payee=payee, statement_set__royalty_run__isnull=False)
        .select_related("statement_set__run", "statement_set__royalty_run")
        .order_by("statement_set__royalty_run__sequence")
    )


def statements(payee: Payee) -> list[dict]:
    """The payee's finalised statements, first first: run, date, summary and breakdowns, invoice."""
    invoices = {invoice.royalty_run_id: invoice for invoice in SelfBillingInvoice.objects.filter(payee=payee)}
    found = []
    for row in _finalised(payee):
        royalty = row.statement_set.royalty_run
        run = run_data(row.statement_set)
        found.append(
            {
                "run": run,
                "title": _title(run),
                "finalized_at": royalty.finalized_at,
                "statement": payee_statement_data(row, row.statement_set.run.currency, lines=False),
                "invoice": invoices.get(royalty.pk),
            }
        )
    return found


def _title(run: dict) -> str:
    """A run by its name and months (names may repeat): `Q3 · 2026-07…2026-09`."""
    first, last = run["period"]["first"], run["period"]["last"]
    if not first:
        return run["name"]
    return f"{run['name']} · {first}" if first == last else f"{run['name']} · {first}…{last}"


def statement(payee: Payee, run_id: int, *, lines: bool = False) -> tuple[dict, dict, PayeeLines]:
    """The run, the payee's statement (with every line when `lines`: the documents) and its lines
    read a page at a time (the page); NotFound when the run is not finalised or holds no statement
    of this payee."""
    row = _finalised(payee).filter(statement_set__run_id=run_id).first()
    if row is None:
        raise NotFound(f"no finalised statement of run {run_id} for this payee", code="statement_not_found")
    currency = row.statement_set.run.currency
    return (
        run_data(row.statement_set),
        payee_statement_data(row, currency, lines=lines),
        PayeeLines(row, currency),
    )


def invoice(payee: Payee, invoice_id: int) -> SelfBillingInvoice:
    found = SelfBillingInvoice.objects.filter(payee=payee, pk=invoice_id).first()
    if found is None:
        raise NotFound(f"no invoice {invoice_id} for this payee", code="invoice_not_found")
    return found


def payments(payee: Payee) -> QuerySet[PaymentLine]:
    """What the label paid the payee (the lines of payment batches marked paid), latest first."""
    return (
        PaymentLine.objects.filter(payee=payee, batch__status=PaymentBatch.Status.PAID)
        .select_related("batch")
        .order_by("-batch__paid_on", "-pk")
    )


def pending_change(payee: Payee) -> dict | None:
    """The payee's payment details change waiting for staff approval, if any: when, and each
    submitted value by its field's name (a payment method by its label)."""
    change = PaymentDetailsChange.objects.filter(
        payee=payee, status=PaymentDetailsChange.Status.PENDING
    ).first()
    if change is None:
        return None
    rows = []
    for name in (name for name in PAYMENT_DETAILS if name in change.details):
        field, value = Payee._meta.get_field(name), change.details[name]
        rows.append((field.verbose_name, dict(field.choices).get(value, value) if field.choices else value))
    return {"submitted_at": change.submitted_at, "rows": rows}


def balances(payee: Payee) -> list[dict]:
    """The payee's ledger balance per currency, as figures."""
    return [
        {"currency": currency, "balance": figure(total, currency)}
        for currency, total in ledger_balances(payee).items()
    ]


def earnings_charts(found: list[dict]) -> list[dict]:
    """Per currency, the earnings of the statements `found` by run, by DSP and by territory, as bars."""
    by_currency: dict[str, list[dict]] = defaultdict(list)
    for item in found:
        by_currency[item["statement"]["currency"]].append(item)
    charts = []
    for currency, items in sorted(by_currency.items()):
        by_run = [
            {"name": item["title"], "earnings": item["statement"]["summary"]["earnings"]} for item in items
        ]
        charts.append(
            {
                "currency": currency,
                "by_run": bars(by_run, scale=100),
                "by_dsp": bars(_summed(items, "by_dsp", currency), scale=100),
                "by_territory": bars(_summed(items, "by_territory", currency), scale=100),
            }
        )
    return charts


def _summed(items: list[dict], breakdown: str, currency: str) -> list[dict]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        for row in item["statement"][breakdown]:
            sums[row["name"]] = EXACT.add(sums[row["name"]], Decimal(row["earnings"]["exact"]))
    ordered = sorted(sums.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"name": name, "earnings": figure(amount, currency)} for name, amount in ordered]
