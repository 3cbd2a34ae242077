"""The files a payment batch is paid with, built from its lines (pure: no database writes).

- SEPA credit transfer, ISO 20022 pain.001.001.03, by sepaxml (validated against the XSD it
  ships): the EUR lines paid by IBAN.
- Wise batch payment, the "send by email" template: `name, recipientEmail, paymentReference,
  receiverType, amountCurrency, amount, sourceCurrency, targetCurrency` (Wise Help Centre, "How do I
  fill in my batch template?").
- PayPal Payouts Web: no header, `recipient, amount, currency, customer id, note, wallet`, one
  currency per file (PayPal developer docs, "Send payouts using the Payouts Web UI").
- A generic CSV of every line.

Cells a spreadsheet would run as a formula (starting with = + - @, tab or carriage return) get a
leading apostrophe (OWASP "CSV injection"); amounts are written by us and never start so.
"""

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.conf import settings
from sepaxml import SepaTransfer

from project.errors import Conflict
from project.money import rounded
from statements.royalties.models import PaymentLine, PaymentMethod

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GENERIC_COLUMNS = (
    "payee",
    "payee_id",
    "method",
    "account",
    "bic",
    "currency",
    "payable",
    "vat",
    "withheld",
    "amount",
    "reference",
)


def cell(value: object) -> str:
    """A text cell a spreadsheet shows as text, never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def amount_text(amount: Decimal, currency: str) -> str:
    """Rounded once, half-even, to the currency's minor unit: "12.30", "1500" (JPY)."""
    return str(rounded(amount, currency))


def end_to_end_id(line: PaymentLine) -> str:
    """The id the bank reports back for one transfer (at most 35 characters)."""
    return f"RB{line.batch_id}-P{line.payee_id}-{line.currency}"


def sent(lines: Iterable[PaymentLine]) -> list[PaymentLine]:
    """The lines that send money: a fully withheld line (amount 0) is in no payment file."""
    return [line for line in lines if line.amount > 0]


def sepa_lines(lines: Iterable[PaymentLine]) -> list[PaymentLine]:
    return [line for line in sent(lines) if line.method == PaymentMethod.IBAN and line.currency == "EUR"]


def sepa_xml(lines: Iterable[PaymentLine], *, execution_date: date) -> bytes:
    """pain.001.001.03 for the EUR IBAN lines, from PAYMENTS_DEBTOR_*; Conflict when there are none
    or the debtor account is not configured."""
    chosen = sepa_lines(lines)
    if not chosen:
        raise Conflict("This batch has no EUR payment by IBAN: no SEPA file.", code="no_sepa_lines")
    if not (settings.PAYMENTS_DEBTOR_NAME and settings.PAYMENTS_DEBTOR_IBAN):
        raise Conflict(
            "Set PAYMENTS_DEBTOR_NAME and PAYMENTS_DEBTOR_IBAN (the account paying) to export SEPA files.",
            code="sepa_debtor_missing",
        )
    config = {
        "name": settings.PAYMENTS_DEBTOR_NAME,
        "IBAN": settings.PAYMENTS_DEBTOR_IBAN,
        "batch": True,
        "currency": "EUR",
    }
    if settings.PAYMENTS_DEBTOR_BIC:  # optional in SEPA (IBAN-only since 2016); never an empty element
        config["BIC"] = settings.PAYMENTS_DEBTOR_BIC
    transfer = SepaTransfer(config, schema="pain.001.001.03", clean=True)
    for line in chosen:
        payment = {
            "name": line.payee.name,
            "IBAN": line.account,
            "amount": int(line.amount.scaleb(2)),  # cents: EUR has two decimals, the amount is rounded
            "execution_date": execution_date,
            "description": line.reference,
            "endtoend_id": end_to_end_id(line),
        }
        if line.bic:
            payment["BIC"] = line.bic
        transfer.add_payment(payment)
    return transfer.export(validate=True)


def _csv(rows: Iterable[Iterable[object]], header: Iterable[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode()


WISE_COLUMNS = (
    "name",
    "recipientEmail",
    "paymentReference",
    "receiverType",
    "amountCurrency",
    "amount",
    "sourceCurrency",
    "targetCurrency",
)


def wise_csv(lines: Iterable[PaymentLine]) -> bytes:
    """The Wise lines: the payee gets exactly the amount (amountCurrency `target`, fees on us)."""
    rows = [
        (
            line.payee.name,
            line.account,
            line.reference[:35],
            "PERSON",
            "target",
            amount_text(line.amount, line.currency),
            line.currency,
            line.currency,
        )
        for line in sent(lines)
        if line.method == PaymentMethod.WISE
    ]
    return _csv(rows, WISE_COLUMNS)


def paypal_currencies(lines: Iterable[PaymentLine]) -> list[str]:
    return sorted({line.currency for line in sent(lines) if line.method == PaymentMethod.PAYPAL})


def paypal_csv(lines: Iterable[PaymentLine], currency: str) -> bytes:
    """The PayPal lines in `currency` (Payouts Web takes one currency per file)."""
    rows = [
        (
            line.account,
            amount_text(line.amount, line.currency),
            line.currency,
            end_to_end_id(line),
            line.reference,
            "PAYPAL",
        )
        for line in sent(lines)
        if line.method == PaymentMethod.PAYPAL and line.currency == currency
    ]
    return _csv(rows)


def generic_csv(lines: Iterable[PaymentLine]) -> bytes:
    rows = [
        (
            line.payee.name,
            line.payee_id,
            line.get_method_display(),
            line.account,
            line.bic,
            line.currency,
            amount_text(line.gross, line.currency),
            amount_text(line.vat, line.currency),
            amount_text(line.withheld, line.currency),
            amount_text(line.amount, line.currency),
            line.reference,
        )
        for line in sent(lines)
    ]
    return _csv(rows, GENERIC_COLUMNS)
