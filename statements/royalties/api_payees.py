"""Royalties API: payees (GET/POST /payees/, GET/PATCH /payees/{id}/)."""

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.pagination import paginate

from statements.royalties import selectors, services
from statements.royalties.api_common import IDEMPOTENT, Pages, answer, errors, once, search_query
from statements.royalties.schemas import PayeeFields, PayeeIn, PayeeOut

router = Router(tags=["payees"])


@router.get("/payees/", response=list[PayeeOut])
@paginate(Pages)
def payee_list(
    request: HttpRequest, search: str = search_query("Part of the name or email."), active: bool | None = None
):
    """Payees by name; `search`: part of the name or email; `active`: only (in)active ones."""
    return selectors.payees(search=search, active=active)


@router.post("/payees/", response={201: PayeeOut, **errors(409, 422)}, openapi_extra=IDEMPOTENT)
def payee_create(request: HttpRequest, payload: PayeeIn) -> HttpResponse:
    """A new payee. 422 `payee_invalid` (problems per field: email, country, tax id for the
    country, IBAN/BIC, the payment method's account)."""
    data = payload.model_dump(exclude_none=True)
    return once(
        request, lambda: answer(PayeeOut, services.save_payee(payee=None, data=data, user=request.user), 201)
    )


@router.get("/payees/{payee_id}/", response={200: PayeeOut, **errors(404)})
def payee_detail(request: HttpRequest, payee_id: int):
    """404 `payee_not_found`."""
    return selectors.get_payee(payee_id)


@router.patch("/payees/{payee_id}/", response={200: PayeeOut, **errors(404, 422)})
def payee_update(request: HttpRequest, payee_id: int, payload: PayeeFields):
    """Change the fields sent (the others stay); 422 `payee_invalid` as for POST."""
    payee = selectors.get_payee(payee_id)
    return services.save_payee(payee=payee, data=payload.model_dump(exclude_none=True), user=request.user)
