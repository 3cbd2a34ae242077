"""Royalties API: the payee ledger (append-only): advances, costs, payments and adjustments."""

from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.pagination import paginate

from statements.royalties import selectors, services
from statements.royalties.api_common import IDEMPOTENT, Pages, answer, errors, once
from statements.royalties.models import RoyaltyLedgerEntry
from statements.royalties.schemas import EntryIn, EntryOut

router = Router(tags=["ledger"])
KINDS = tuple(RoyaltyLedgerEntry.Kind.values)


@router.get("/ledger/", response=list[EntryOut])
@paginate(Pages)
def entry_list(
    request: HttpRequest,
    payee: int | None = None,
    contract: int | None = None,
    kind: Literal["", *KINDS] = "",
):
    """Entries by date, those of finalised runs (earnings, recoupment, reserves, payments) included;
    filtered by `payee`, `contract`, `kind` (advance, cost, earnings, recoupment, reserve_held,
    reserve_released, payment, adjustment)."""
    return selectors.ledger_entries(payee=payee, contract=contract, kind=kind)


@router.post("/ledger/", response={201: EntryOut, **errors(409, 422)}, openapi_extra=IDEMPOTENT)
def entry_post(request: HttpRequest, payload: EntryIn) -> HttpResponse:
    """Post an advance, recoupable cost or payment (a positive amount, debited) or an adjustment (a
    positive amount and its `direction`). Send an `Idempotency-Key` to make retries safe. 422
    `entry_invalid` (unknown payee or contract, a payee without a share of the contract, a missing
    or needless direction)."""
    data = payload.model_dump()
    return once(
        request, lambda: answer(EntryOut, services.post_manual_entry(data=data, user=request.user), 201)
    )


@router.get("/ledger/{entry_id}/", response={200: EntryOut, **errors(404)})
def entry_detail(request: HttpRequest, entry_id: int):
    """404 `ledger_entry_not_found`. Entries are never changed: post an adjustment."""
    return selectors.get_ledger_entry(entry_id)
