"""Royalties API: a run's statements for review, per run (one row per payee with the totals) and
per payee (the statement the PDF shows): a draft's computed now, a finalised run's as posted."""

from django.http import HttpRequest
from ninja import Router

from statements import selectors as statement_selectors
from statements.royalties import selectors
from statements.royalties.api_common import errors

router = Router(tags=["draft statements"])


@router.get("/runs/{run_id}/statements/", response={200: dict, **errors(404, 409, 422)})
def run_review(request: HttpRequest, run_id: int):
    """`run`; `totals` (payees, payees paid, payable, carried forward, unmatched and its share of the
    revenue, label income); `payees`: each payee's summary (opening, earnings, reserves held and
    released, recouped, closing, payable, carried forward); `duplicates`: lines not paid again as
    their content was paid from, or is in, an earlier file (named); `problems`: what stops
    finalising. Every figure is {"amount": rounded once, half-even, "exact"}. 404 `run_not_found`,
    409 `report_not_ready`, 422 a payee paid in another currency than the run's."""
    data = selectors.run_statements(statement_selectors.get_run(run_id))
    return {
        "run": data["run"],
        "totals": selectors.totals(data),
        "payees": [{"payee": s["payee"], "summary": s["summary"]} for s in data["statements"]],
        "duplicates": data.get("duplicates", []),
        "problems": data["problems"],
    }


@router.get("/runs/{run_id}/statements/{payee_id}/", response={200: dict, **errors(404, 409, 422)})
def payee_statement(request: HttpRequest, run_id: int, payee_id: int):
    """One payee's statement: summary, balances per contract or cross-collateralisation group,
    breakdowns by DSP, month, territory and track, and the line detail. 404
    `payee_statement_not_found` when the payee has none in this run."""
    return selectors.payee_statement(statement_selectors.get_run(run_id), payee_id)
