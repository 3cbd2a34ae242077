"""Royalties API: payment batches (issue 24) — create from finalised runs, read with their lines,
download their files (SEPA pain.001.001.03, Wise, PayPal, generic CSV), mark paid, cancel. Writes
need the token scope `royalties:write`. Refusals: 404 `batch_not_found`, `run_not_found`; 409
`run_not_finalized`, `nothing_to_pay`, `payables_claimed`, `batch_closed`, `no_sepa_lines`,
`sepa_debtor_missing`."""

from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from project.api import Error
from project.errors import Conflict, NotFound
from statements.royalties import payments
from statements.royalties.models import PaymentBatch, PaymentLine, RoyaltyRun
from statements.royalties.presentation import figure

router = Router(tags=["payment batches"])
# 422: what the services refuse as InvalidInput (the Royalties API answers it 422, api.py).
REFUSALS = {404: Error, 409: Error, 422: Error}
FILE_RESPONSE = {
    "description": "The file",
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in payments.FILE_TYPES.values()},
}


class Figure(Schema):
    amount: str  # rounded once, half-even, to the currency's minor unit
    exact: str


class LineOut(Schema):
    payee: int
    payee_name: str
    currency: str
    payable: Figure
    withheld: Figure
    vat: Figure  # a self-billing invoice's VAT, paid on top of the payable (not royalty balance)
    amount: Figure  # sent: payable - withheld + vat
    method: str
    account: str
    bic: str
    reference: str
    runs: list[int]


class TotalOut(Schema):
    currency: str
    lines: int
    amount: Figure
    withheld: Figure
    vat: Figure


class BatchOut(Schema):
    id: int
    status: str
    runs: list[int]
    created_at: datetime
    paid_on: date | None
    totals: list[TotalOut]
    files: list[str]
    lines: list[LineOut]


class BatchIn(Schema):
    runs: list[int]  # statement run ids, each finalised


class PaidIn(Schema):
    paid_on: date | None = None  # default today


def _line(line: PaymentLine) -> dict:
    return {
        "payee": line.payee_id,
        "payee_name": line.payee.name,
        "currency": line.currency,
        "payable": figure(line.gross, line.currency),
        "withheld": figure(line.withheld, line.currency),
        "vat": figure(line.vat, line.currency),
        "amount": figure(line.amount, line.currency),
        "method": line.method,
        "account": line.account,
        "bic": line.bic,
        "reference": line.reference,
        "runs": sorted({claim.entry.royalty_run.run_id for claim in line.claims.all()}),
    }


def _batch(batch: PaymentBatch) -> dict:
    lines = list(payments.batch_lines(batch))
    return {
        "id": batch.pk,
        "status": batch.status,
        "runs": sorted(batch.runs.values_list("run_id", flat=True)),
        "created_at": batch.created_at,
        "paid_on": batch.paid_on,
        "totals": [
            {
                **total,
                "amount": figure(total["amount"], total["currency"]),
                "withheld": figure(total["withheld"], total["currency"]),
                "vat": figure(total["vat"], total["currency"]),
            }
            for total in payments.batch_totals(lines)
        ],
        "files": [
            f"/api/royalties/payment_batches/{batch.pk}/files/{kind}/"
            + (f"?currency={currency}" if currency else "")
            for _, kind, currency in payments.file_links(batch)
        ],
        "lines": [_line(line) for line in lines],
    }


@router.get("/payment_batches/", response=list[BatchOut])
def batch_list(request: HttpRequest):
    """Every batch, newest first, with its lines and totals per currency."""
    return [_batch(batch) for batch in PaymentBatch.objects.all()]


@router.post("/payment_batches/", response={201: BatchOut, 400: Error, **REFUSALS})
def batch_create(request: HttpRequest, body: BatchIn):
    """A batch paying every payable of these finalised runs that no other live batch holds: one
    line per payee and currency (payable, withholding, amount sent, method and account from the
    payee's approved details). 409 `run_not_finalized`, `nothing_to_pay`."""
    runs = list(RoyaltyRun.objects.filter(run_id__in=body.runs).select_related("run"))
    missing = set(body.runs) - {royalty.run_id for royalty in runs}
    if missing:
        raise Conflict(f"Statement run(s) {sorted(missing)} are not finalised.", code="run_not_finalized")
    return Status(201, _batch(payments.create_batch(runs=runs, by_user=request.user)))


@router.get("/payment_batches/{batch_id}/", response={200: BatchOut, **REFUSALS})
def batch_detail(request: HttpRequest, batch_id: int):
    """404 `batch_not_found`."""
    return _batch(payments.get_batch(batch_id))


@router.get(
    "/payment_batches/{batch_id}/files/{kind}/",
    response={200: None, **REFUSALS},
    openapi_extra={"responses": {200: FILE_RESPONSE}},
)
def batch_file(request: HttpRequest, batch_id: int, kind: str, currency: str = "") -> HttpResponse:
    """`kind`: `sepa` (pain.001.001.03 XML of the EUR lines paid by IBAN), `wise` (Wise batch CSV),
    `paypal` (PayPal Payouts CSV of one `currency`), `generic` (CSV of every line). 409
    `no_sepa_lines`, `sepa_debtor_missing`."""
    if kind not in ("sepa", "wise", "paypal", "generic"):
        raise NotFound(f"no {kind!r} file: sepa, wise, paypal or generic", code="file_not_found")
    name, content = payments.batch_file(payments.get_batch(batch_id), kind, currency)
    response = HttpResponse(content, content_type=payments.FILE_TYPES[name.rsplit(".", 1)[1]])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.post("/payment_batches/{batch_id}/mark_paid/", response={200: BatchOut, **REFUSALS})
def batch_mark_paid(request: HttpRequest, batch_id: int, body: PaidIn | None = None):
    """Record the batch paid: one `paid_out` ledger entry per line and a remittance email (with the
    statement PDFs) to each payee. Again on a paid batch: the same answer, nothing paid twice. 409
    `batch_closed` for a cancelled batch."""
    paid_on = body.paid_on if body is not None else None
    batch = payments.mark_batch_paid(
        batch=payments.get_batch(batch_id), by_user=request.user, paid_on=paid_on
    )
    return _batch(batch)


@router.post("/payment_batches/{batch_id}/cancel/", response={200: BatchOut, **REFUSALS})
def batch_cancel(request: HttpRequest, batch_id: int):
    """Cancel a batch still to review; its payables are free for another batch. 409 `batch_closed`
    once paid (or cancelled)."""
    return _batch(payments.cancel_batch(batch=payments.get_batch(batch_id), by_user=request.user))
