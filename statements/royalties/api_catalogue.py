"""Royalties API: the catalogue (read), a run's unmatched income and what to do with it: add it to
a contract's scope, or mark it as the label's income."""

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from statements import selectors as statement_selectors
from statements.royalties import selectors, services
from statements.royalties.api_common import Pages, errors, search_query
from statements.royalties.schemas import (
    LabelIncomeIn,
    LabelIncomeOut,
    ReleaseOut,
    ScopeAdded,
    ScopeIn,
    TrackOut,
)

router = Router(tags=["catalogue and unmatched income"])


@router.get("/releases/", response=list[ReleaseOut])
@paginate(Pages)
def release_list(
    request: HttpRequest, search: str = search_query("The UPC's start, part of title or artists.")
):
    """Releases from the processed sales files; `search`: the UPC's start, part of title or artists."""
    return selectors.releases(search=search)


@router.get("/releases/{release_id}/", response={200: ReleaseOut, **errors(404)})
def release_detail(request: HttpRequest, release_id: int):
    """404 `release_not_found`."""
    return selectors.get_release(release_id)


@router.get("/tracks/", response=list[TrackOut])
@paginate(Pages)
def track_list(
    request: HttpRequest,
    search: str = search_query("The ISRC's start, part of title or artists."),
    release: int | None = None,
):
    """Tracks; `search`: the ISRC's start, part of title or artists; `release`: its tracks."""
    return selectors.tracks(search=search, release=release)


@router.get("/tracks/{track_id}/", response={200: TrackOut, **errors(404)})
def track_detail(request: HttpRequest, track_id: int):
    """404 `track_not_found`."""
    return selectors.get_track(track_id)


@router.get("/runs/{run_id}/unmatched/", response={200: dict, **errors(404, 409, 422)})
def run_unmatched(request: HttpRequest, run_id: int, search: str = "", dsp: str = ""):
    """A run's income no contract matched, by track (ISRC, UPC, artist), largest first: title, DSPs,
    months, lines, units, revenue {"amount", "exact"}; and the groups kept as label income. `search`:
    part of the ISRC, UPC, artist or title; `dsp`: groups sold by this DSP. 409 `report_not_ready`."""
    data = selectors.run_statements(statement_selectors.get_run(run_id))
    currency = data["run"]["currency"]

    def groups(name: str) -> list[dict]:
        return selectors.search_groups(
            selectors.unmatched_groups(data[name], currency), search=search, dsp=dsp
        )

    return {
        "run": data["run"],
        "total": data["unallocated_total"],
        "groups": groups("unallocated"),
        "label_income_total": data["label_income_total"],
        "label_income": groups("label_income"),
    }


@router.post("/unmatched/add-to-contract/", response={200: ScopeAdded, **errors(404, 422)})
def add_to_contract(request: HttpRequest, payload: ScopeIn):
    """Add an ISRC, UPC or artist to a contract's scope: its unmatched lines are paid by that contract
    in every draft from now on (audited). 404 `contract_not_found`, 422 `scope_invalid`."""
    contract = selectors.get_contract(payload.contract)
    added = services.add_to_contract_scope(
        contract=contract, scope=payload.scope, value=payload.value, user=request.user
    )
    return {"added": added, "contract": selectors.get_contract(contract.pk)}


@router.get("/label-income/", response=list[LabelIncomeOut])
def label_income_list(request: HttpRequest):
    """The ISRCs, UPCs and artists whose unmatched lines the label keeps."""
    return selectors.label_income()


@router.post("/label-income/", response={201: LabelIncomeOut, **errors(422)})
def label_income_mark(request: HttpRequest, payload: LabelIncomeIn):
    """Mark an ISRC, UPC or artist as label income: its unmatched lines leave suspense and are listed
    as the label's (audited); marking it again answers the first marking. 422 `scope_invalid`."""
    return Status(
        201,
        services.mark_label_income(
            scope=payload.scope, value=payload.value, note=payload.note, user=request.user
        ),
    )


@router.delete("/label-income/{label_income_id}/", response={204: None, **errors(404)})
def label_income_unmark(request: HttpRequest, label_income_id: int):
    """Its lines are unmatched income again in drafts (audited). 404 `label_income_not_found`."""
    services.unmark_label_income(label_income=selectors.get_label_income(label_income_id), user=request.user)
    return Status(204, None)
