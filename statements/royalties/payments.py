"""Paying payees (issue 24): payment batches over finalised runs' payables, one service per
transition — `create_batch` (OPEN), `mark_batch_paid` (PAID), `cancel_batch` (CANCELLED) — and the
reads the pages and the API share.

Finalising a run already posts what it makes payable as a `payment` entry (debiting the balance).
A batch claims those entries (PaymentLineEntry: a payable is in one live batch at most), pays each
payee their sum less withholding — or, for a run with the payee's self-billing invoice, what the
invoice says is to be paid (net + VAT - withholding) — and marking it paid records what was sent as one `paid_out`
ledger entry per line (a memo: the balance was debited at finalisation) — the entry's one-to-one
link to its line makes a second posting impossible, so marking twice pays nothing twice.
"""

import logging
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from project.audit import record_action
from project.errors import Conflict, InvalidInput, NotFound
from project.mail import queue_email
from project.money import EXACT, rounded
from statements.royalties import documents, payment_files, selectors
from statements.royalties.models import (
    Payee,
    PaymentBatch,
    PaymentLine,
    PaymentLineEntry,
    PaymentMethod,
    RoyaltyLedgerEntry,
    RoyaltyRun,
    SelfBillingInvoice,
)

K = RoyaltyLedgerEntry.Kind
B = PaymentBatch.Status
R = PaymentLine.Remittance
HUNDRED = Decimal(100)
logger = logging.getLogger(__name__)


def unpaid_payables(runs: list[RoyaltyRun]) -> QuerySet[RoyaltyLedgerEntry]:
    """The `payment` entries (what finalising made payable) of `runs` that no live batch claims."""
    return (
        RoyaltyLedgerEntry.objects.filter(royalty_run__in=runs, kind=K.PAYMENT, claimed_by__isnull=True)
        .select_related("payee", "royalty_run__run")
        .order_by("payee__name", "payee_id", "currency", "pk")
    )


def _account(payee) -> tuple[str, str]:
    return {
        PaymentMethod.IBAN: (payee.iban, payee.bic),
        PaymentMethod.PAYPAL: (payee.paypal_email, ""),
        PaymentMethod.WISE: (payee.wise_email, ""),
    }.get(payee.payment_method, ("", ""))


def create_batch(*, runs: list[RoyaltyRun], by_user: AbstractBaseUser | None) -> PaymentBatch:
    """A batch paying every payable of `runs` not yet in a live batch: one line per payee and
    currency, with the payee's approved payment details as they are now."""
    if not runs:
        raise InvalidInput("Choose at least one finalised run.", code="no_runs")
    with transaction.atomic():
        grouped: dict[tuple, list[RoyaltyLedgerEntry]] = defaultdict(list)
        for entry in unpaid_payables(runs).select_for_update(of=("self",)):
            grouped[(entry.payee, entry.currency)].append(entry)
        if not grouped:
            raise Conflict("Everything these runs made payable is already in a batch.", code="nothing_to_pay")
        batch = PaymentBatch.objects.create(created_by=_user(by_user))
        batch.runs.set(runs)
        reference = "Royalties " + ", ".join(sorted({run.run.name for run in runs}))
        claims = []
        invoiced = {
            (invoice.royalty_run_id, invoice.payee_id): invoice
            for invoice in SelfBillingInvoice.objects.filter(royalty_run__in=runs)
        }
        for (payee, currency), entries in grouped.items():
            figures = _line_figures(payee, currency, entries, invoiced)
            if figures["amount"] <= 0 and not figures["withheld"]:
                continue  # below one minor unit after rounding: stays payable for a later batch
            account, bic = _account(payee)
            line = PaymentLine.objects.create(
                batch=batch,
                payee=payee,
                currency=currency,
                **figures,
                method=payee.payment_method,
                account=account,
                bic=bic,
                reference=reference[:140],
            )
            claims += [PaymentLineEntry(line=line, entry=entry) for entry in entries]
        if not claims:  # every payable rounds to nothing: they wait, summed, for a later batch
            raise Conflict(
                "Nothing these runs made payable is left to send after rounding and withholding.",
                code="nothing_to_pay",
            )
        try:
            with transaction.atomic():
                PaymentLineEntry.objects.bulk_create(claims)
        except IntegrityError:
            raise Conflict(
                "Another batch claimed some of these payables at the same time; try again.",
                code="payables_claimed",
            ) from None
        record_action(
            "royalties.payment_batch_created",
            target=batch,
            changes={"runs": [run.pk for run in runs], "lines": batch.lines.count()},
            user=_user(by_user),
        )
    return batch


def _line_figures(
    payee: Payee, currency: str, entries: list[RoyaltyLedgerEntry], invoiced: dict[tuple, SelfBillingInvoice]
) -> dict[str, Decimal]:
    """What a line pays the payee for `entries` (their payables in `currency`): for each run with a
    self-billing invoice of theirs, what the invoice says is to be paid (net + VAT - withholding);
    for the other runs' payables, their sum rounded once less withholding on it. `gross` stays the
    exact sum of the payables settled; VAT is paid on top of them, never out of the balance."""
    gross = rest = Decimal(0)
    invoices = {}
    for entry in entries:
        gross = EXACT.subtract(gross, entry.amount)  # payments are negative: owed is their opposite
        invoice = invoiced.get((entry.royalty_run_id, payee.pk))
        if invoice is not None and invoice.currency == currency:
            invoices[invoice.pk] = invoice
        else:
            rest = EXACT.subtract(rest, entry.amount)
    withheld = rounded(EXACT.divide(EXACT.multiply(rest, payee.withholding_rate), HUNDRED), currency)
    figures = {
        "gross": gross,
        "vat": Decimal(0),
        "withheld": withheld,
        "amount": rounded(rest, currency) - withheld,
    }
    for invoice in invoices.values():
        figures["vat"] += invoice.vat
        figures["withheld"] += invoice.withholding
        figures["amount"] += invoice.total
    return figures


def _locked(batch: PaymentBatch) -> PaymentBatch:
    return PaymentBatch.objects.select_for_update().get(pk=batch.pk)


def cancel_batch(*, batch: PaymentBatch, by_user: AbstractBaseUser | None) -> PaymentBatch:
    """An OPEN batch is cancelled: its payables are free for another batch. A paid one is not."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status != B.OPEN:
            raise Conflict(
                f"Batch #{batch.pk} is {batch.get_status_display()}: it cannot be cancelled.",
                code="batch_closed",
            )
        PaymentLineEntry.objects.filter(line__batch=batch).delete()
        batch.status, batch.decided_at, batch.decided_by = B.CANCELLED, timezone.now(), _user(by_user)
        batch.save(update_fields=["status", "decided_at", "decided_by"])
        record_action("royalties.payment_batch_cancelled", target=batch, user=_user(by_user))
    return batch


def mark_batch_paid(
    *, batch: PaymentBatch, by_user: AbstractBaseUser | None, paid_on: date | None = None
) -> PaymentBatch:
    """Record the batch as paid: one `paid_out` entry per line, and each line of a payee with an
    email marked for a remittance email (with the statement PDFs), rendered and queued after commit
    by `send_remittances`. Idempotent: a PAID batch is returned as it is; the
    batch row lock serialises two concurrent calls, the entry-line one-to-one backs it in the DB."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status == B.PAID:
            return batch
        if batch.status != B.OPEN:
            raise Conflict(
                f"Batch #{batch.pk} is {batch.get_status_display()}: it cannot be paid.", code="batch_closed"
            )
        day = paid_on or timezone.localdate()
        lines = list(batch_lines(batch))
        RoyaltyLedgerEntry.objects.bulk_create(
            RoyaltyLedgerEntry(
                payee=line.payee,
                contract_id=line.claims.all()[0].entry.contract_id,
                kind=K.PAID_OUT,
                amount=-line.amount,
                currency=line.currency,
                date=day,
                payment_line=line,
                memo=f"Batch #{batch.pk}: {line.reference}"[:300],
            )
            for line in lines
        )
        batch.status, batch.paid_on = B.PAID, day
        batch.decided_at, batch.decided_by = timezone.now(), _user(by_user)
        batch.save(update_fields=["status", "paid_on", "decided_at", "decided_by"])
        PaymentLine.objects.filter(pk__in=[line.pk for line in lines if line.payee.email]).update(
            remittance=R.PENDING
        )
        record_action(
            "royalties.payment_batch_paid",
            target=batch,
            changes={"paid_on": day.isoformat(), "lines": len(lines)},
            user=_user(by_user),
        )
        transaction.on_commit(lambda: _schedule_remittances(batch.pk))
    return batch


def _schedule_remittances(batch_id: int) -> None:
    from django_q.tasks import async_task

    try:
        async_task("statements.tasks.send_remittances", batch_id, task_name=f"remittances-{batch_id}")
    except Exception:  # the broker being down must not fail the payment; the schedule sends them
        logger.exception("could not enqueue the remittances of batch %s; the schedule sends them", batch_id)


def send_remittances(batch_id: int | None = None) -> int:
    """Queue the remittance email of every line still to send (of one batch, or all): each in its
    own transaction, so the statement PDFs are rendered after mark-paid committed and hold no batch
    lock. Returns how many were queued; running it again, or twice at once, queues none twice."""
    pending = PaymentLine.objects.filter(remittance=R.PENDING, batch__status=B.PAID)
    if batch_id is not None:
        pending = pending.filter(batch_id=batch_id)
    return sum(_send_remittance(pk) for pk in pending.order_by("pk").values_list("pk", flat=True))


def _send_remittance(line_id: int) -> bool:
    with transaction.atomic():
        line = (
            PaymentLine.objects.filter(pk=line_id, remittance=R.PENDING)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("payee", "batch")
            .prefetch_related("claims__entry__royalty_run__run")
            .first()
        )
        if line is None:  # queued meanwhile, or another worker is rendering it now
            return False
        _remittance(line.batch, line)
        line.remittance = R.QUEUED
        line.save(update_fields=["remittance"])
        return True


def _remittance(batch: PaymentBatch, line: PaymentLine) -> None:
    """The payee's remittance advice through the outbox, with the statement of each run paid."""
    attachments, runs = [], []
    for royalty in sorted({claim.entry.royalty_run for claim in line.claims.all()}, key=lambda r: r.sequence):
        data = selectors.run_statements(royalty.run)
        statement = selectors.payee_statement(royalty.run, line.payee_id)
        attachments.append(
            (
                f"statement-{royalty.run.pk}-{line.payee_id}.pdf",
                documents.pdf(data["run"], statement),
                "application/pdf",
            )
        )
        runs.append(royalty.run.name)
    queue_email(
        template="statements/remittance",
        context={"batch": batch, "line": line, "runs": runs},
        to=[line.payee.email],
        attachments=attachments,
    )


# --- reads --------------------------------------------------------------------------------------


def batch_lines(batch: PaymentBatch) -> QuerySet[PaymentLine]:
    return batch.lines.select_related("payee").prefetch_related("claims__entry__royalty_run__run")


def get_batch(batch_id: int) -> PaymentBatch:
    batch = PaymentBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"payment batch {batch_id} not found", code="batch_not_found")
    return batch


def batch_totals(lines: list[PaymentLine]) -> list[dict]:
    """What the batch sends per currency: [{currency, lines, amount, withheld, vat}], each summed exactly."""
    totals: dict[str, dict] = {}
    for line in lines:
        total = totals.setdefault(
            line.currency,
            {
                "currency": line.currency,
                "lines": 0,
                "amount": Decimal(0),
                "withheld": Decimal(0),
                "vat": Decimal(0),
            },
        )
        total["lines"] += 1
        total["amount"] += line.amount
        total["withheld"] += line.withheld
        total["vat"] += line.vat
    return [totals[currency] for currency in sorted(totals)]


FILE_TYPES = {"xml": "application/xml", "csv": "text/csv"}


def batch_file(batch: PaymentBatch, kind: str, currency: str = "") -> tuple[str, bytes]:
    """(file name, content) of one of the batch's files: `sepa`, `wise`, `paypal` (of `currency`)
    or `generic`; Conflict when the batch has no line for it (SEPA: or no debtor account)."""
    lines = list(batch_lines(batch))
    if kind == "sepa":
        day = batch.paid_on or timezone.localdate()
        return f"batch-{batch.pk}-sepa.xml", payment_files.sepa_xml(lines, execution_date=day)
    if kind == "wise":
        return f"batch-{batch.pk}-wise.csv", payment_files.wise_csv(lines)
    if kind == "paypal":
        return f"batch-{batch.pk}-paypal-{currency}.csv", payment_files.paypal_csv(lines, currency)
    return f"batch-{batch.pk}.csv", payment_files.generic_csv(lines)


def file_links(batch: PaymentBatch) -> list[tuple[str, str, str]]:
    """(label, kind, currency) of the files this batch has lines for."""
    lines = list(batch_lines(batch))
    links = [(_("Generic CSV"), "generic", "")]
    if payment_files.sepa_lines(lines):
        links.append((_("SEPA XML (EUR, IBAN)"), "sepa", ""))
    if any(line.method == "wise" for line in payment_files.sent(lines)):
        links.append((_("Wise CSV"), "wise", ""))
    links += [
        (_("PayPal CSV (%(currency)s)") % {"currency": c}, "paypal", c)
        for c in payment_files.paypal_currencies(lines)
    ]
    return links


def _user(user: AbstractBaseUser | None):
    return user if user is not None and user.is_authenticated else None
