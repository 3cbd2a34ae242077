"""Royalties API: contracts with their scope, rates, splits and rate overrides (percent)."""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.pagination import paginate

from statements.royalties import selectors, services
from statements.royalties.api_common import IDEMPOTENT, Pages, answer, errors, once, search_query
from statements.royalties.schemas import ContractIn, ContractOut

router = Router(tags=["contracts"])


@router.get("/contracts/", response=list[ContractOut])
@paginate(Pages)
def contract_list(
    request: HttpRequest, search: str = search_query("Part of the name."), payee: int | None = None
):
    """Contracts by name; `search`: part of the name; `payee`: contracts with a share for this payee."""
    return selectors.contracts(search=search, payee=payee)


@router.post("/contracts/", response={201: ContractOut, **errors(409, 422)}, openapi_extra=IDEMPOTENT)
def contract_create(request: HttpRequest, payload: ContractIn) -> HttpResponse:
    """A new contract. 422 `contract_invalid` (problems per field: splits not adding up to 100 %, an
    unknown or repeated payee, a name in use, validity ending before it starts, an override without
    DSP or territory or repeated) or `scope_invalid`."""
    data = payload.model_dump()

    def respond() -> HttpResponse:
        contract = services.save_contract(contract=None, data=data, user=request.user)
        return answer(ContractOut, selectors.get_contract(contract.pk), 201)

    return once(request, respond)


@router.get("/contracts/{contract_id}/", response={200: ContractOut, **errors(404)})
def contract_detail(request: HttpRequest, contract_id: int):
    """404 `contract_not_found`."""
    return selectors.get_contract(contract_id)


@router.put("/contracts/{contract_id}/", response={200: ContractOut, **errors(404, 422)})
def contract_replace(request: HttpRequest, contract_id: int, payload: ContractIn):
    """Replace the contract whole (splits and overrides too); drafts use it from now on, finalised
    runs keep what they posted. 422 as for POST."""
    contract = services.save_contract(
        contract=selectors.get_contract(contract_id), data=payload.model_dump(), user=request.user
    )
    return selectors.get_contract(contract.pk)


@router.delete("/contracts/{contract_id}/", response={204: None, **errors(404, 409)})
def contract_delete(request: HttpRequest, contract_id: int):
    """Delete a contract nothing was posted or paid under; 409 `contract_in_use` otherwise."""
    services.delete_contract(contract=selectors.get_contract(contract_id), user=request.user)
    return Status(204, None)
