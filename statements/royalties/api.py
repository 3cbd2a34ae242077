"""Royalty statement endpoints, a router of the statements API: statements of a run (JSON, per
payee PDF/xlsx, a zip of all) and finalisation. Error codes: `payee_statement_not_found`,
`run_finalized`, `splits_invalid`, `lines_allocated`, and the statements API's `run_not_found`,
`report_not_ready`."""

from django.http import HttpRequest, HttpResponse
from ninja import Router

from project.api import Error
from project.errors import NotFound
from statements import selectors as statement_selectors
from statements.royalties import documents, selectors, services

router = Router(tags=["royalty statements"])
# A payee paid in another currency (400); unknown run or payee (404); run not reportable, or finalised (409).
REFUSALS = {400: Error, 404: Error, 409: Error}
TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
FILE_RESPONSE = {
    "description": "The document",
    "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in TYPES.values()},
}


@router.get("/statement_run/{run_id}/statements/", response={200: dict, **REFUSALS})
def run_statements(request: HttpRequest, run_id: int):
    """Each payee's statement (summary, balances per contract or cross-collateralisation group,
    breakdowns by DSP, month, territory and track, line detail), the unallocated (suspense) lines
    and what stops finalisation. Every figure is {"amount": rounded once, half-even, "exact"}.
    409 `report_not_ready` until the run's files are PROCESSED and its rates known."""
    return selectors.run_statements(statement_selectors.get_run(run_id))


@router.get(
    "/statement_run/{run_id}/statements.zip",
    response={200: None, **REFUSALS},
    openapi_extra={"responses": {200: FILE_RESPONSE}},
)
def run_statements_zip(request: HttpRequest, run_id: int):
    """Every payee's PDF and xlsx, and the statements as JSON, in one zip."""
    data = selectors.run_statements(statement_selectors.get_run(run_id))
    return _attachment(documents.archive(data), f"statements-{run_id}.zip")


@router.get(
    "/statement_run/{run_id}/statements/{payee_id}.{kind}",
    response={200: None, **REFUSALS},
    openapi_extra={"responses": {200: FILE_RESPONSE}},
)
def payee_statement_document(request: HttpRequest, run_id: int, payee_id: int, kind: str):
    """One payee's statement as PDF (`.pdf`) or spreadsheet with the line detail (`.xlsx`)."""
    if kind not in ("pdf", "xlsx"):
        raise NotFound(f"no .{kind} statement document: .pdf or .xlsx", code="not_found")
    data = selectors.run_statements(statement_selectors.get_run(run_id))
    statement = selectors.payee_statement(data, payee_id)
    render = documents.pdf if kind == "pdf" else documents.xlsx
    return _attachment(
        render(data["run"], statement), f"{documents.document_name(data['run'], statement)}.{kind}"
    )


@router.post("/statement_run/{run_id}/finalize/", response={200: dict, **REFUSALS})
def finalize(request: HttpRequest, run_id: int):
    """Post the run's statements to the payee ledger in one transaction and lock the run. 409
    `run_finalized` if it already is, `splits_invalid` (problems list the contracts) or
    `report_not_ready`."""
    royalty = services.finalize_run(run=statement_selectors.get_run(run_id), user=request.user)
    return {
        "id": run_id,
        "sequence": royalty.sequence,
        "finalized_at": royalty.finalized_at.isoformat(),
        "statements": len(royalty.document["statements"]),
    }


def _attachment(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=TYPES[filename.rsplit(".", 1)[1]])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
