"""Royalty endpoints. `router`: a router of the statements API (token scope `statements`): statements
of a run (JSON, per payee PDF/xlsx, a zip of all) and finalisation. Error codes:
`payee_statement_not_found`, `run_finalized`, `splits_invalid`, `payee_rates_missing`, `lines_allocated`,
`archive_not_found`, `archive_failed`, `statements_changed`, `approval_required`, and the
statements API's `run_not_found`, `report_not_ready`.

`royalties_api`: the Royalties API at /api/royalties/ (token scope `royalties`), one router per
resource in `api_<resource>.py`, listed in ROYALTY_ROUTERS (add a router there to extend it). Its
refusals: 400 a request that does not parse against the schema (one problem per field), 422 values
that do not hold together (`payee_invalid`, `contract_invalid`, `entry_invalid`, `scope_invalid`,
problems per field), 404 `<thing>_not_found`, 409 `contract_in_use`, `idempotency_key_reused`.
"""

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema

from project import storage
from project.api import Error, build_api
from project.errors import Conflict, InvalidInput, NotFound
from statements import report_files
from statements import selectors as statement_selectors
from statements.royalties import (
    api_batches,
    api_catalogue,
    api_contracts,
    api_drafts,
    api_ledger,
    api_payees,
    documents,
    selectors,
    services,
)
from statements.royalties.models import RoyaltyArchive

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
    """Each payee's statement (summary, advances outstanding and recouped, balances per contract or
    cross-collateralisation group; breakdowns and line detail are in the payee's PDF and xlsx), the
    unallocated (suspense) lines, the run's first and last month and what stops finalisation. Every figure is {"amount": rounded once, half-even, "exact"}.
    409 `report_not_ready` until the run's files are PROCESSED and its rates known."""
    return selectors.run_statements(statement_selectors.get_run(run_id))


class ArchiveStatus(Schema):
    """A statements zip being built: poll `url` (with `Retry-After`) until it answers the zip."""

    archive: int
    status: str
    processed: int
    total: int
    url: str


@router.get(
    "/statement_run/{run_id}/statements.zip",
    response={200: None, 202: ArchiveStatus, **REFUSALS},
    openapi_extra={"responses": {200: FILE_RESPONSE}},
)
def run_statements_zip(request: HttpRequest, run_id: int, archive: int | None = None):
    """Every payee's PDF and xlsx, and the statements as JSON, in one zip. Up to
    ROYALTY_ZIP_INLINE_PAYEES payees it is built in the request; beyond, a background task builds
    it into the storage and this answers 202 with its progress and the `url` (`?archive=<id>`) that
    serves the zip once built (202 while building, 409 `archive_failed` if building failed)."""
    run = statement_selectors.get_run(run_id)
    if archive is not None:
        return _archive_reply(selectors.archive(run, archive))
    built = services.statements_zip(run=run, data=selectors.run_statements(run))
    if isinstance(built, bytes):
        return attachment(built, report_files.download_name(run, "statements", "zip"))
    return _archive_reply(built)


def _archive_reply(archive: RoyaltyArchive) -> HttpResponse:
    if archive.status == RoyaltyArchive.Status.READY:
        return FileResponse(
            storage.open_stream(archive.storage_key),
            as_attachment=True,
            filename=report_files.download_name(archive.run, "statements", "zip"),
            content_type=TYPES["zip"],
        )
    if archive.status == RoyaltyArchive.Status.FAILED:
        raise Conflict(
            f"Building the statements zip failed: {archive.error} Ask for it again without ?archive=.",
            code="archive_failed",
        )
    url = f"/api/statement_run/{archive.run_id}/statements.zip?archive={archive.pk}"
    body = {
        "archive": archive.pk,
        "status": archive.status,
        "processed": archive.processed,
        "total": archive.total,
        "url": url,
    }
    return JsonResponse(body, status=202, headers={"Location": url, "Retry-After": "5"})


@router.get(
    "/statement_run/{run_id}/statements/{payee_id}.{kind}",
    response={200: None, **REFUSALS},
    openapi_extra={"responses": {200: FILE_RESPONSE}},
)
def payee_statement_document(request: HttpRequest, run_id: int, payee_id: int, kind: str):
    """One payee's statement as PDF (`.pdf`) or spreadsheet with the line detail (`.xlsx`)."""
    if kind not in ("pdf", "xlsx"):
        raise NotFound(f"no .{kind} statement document: .pdf or .xlsx", code="not_found")
    run = statement_selectors.get_run(run_id)
    shown = selectors.statements_run(run)
    statement = selectors.payee_statement(run, payee_id)
    render = documents.pdf if kind == "pdf" else documents.xlsx
    return attachment(render(shown, statement), f"{documents.document_name(shown, statement)}.{kind}")


@router.post("/statement_run/{run_id}/finalize/", response={200: dict, **REFUSALS})
def finalize(request: HttpRequest, run_id: int):
    """Post the run's statements to the payee ledger in one transaction and lock the run. 409
    `run_finalized` if it already is, `splits_invalid` (problems list the contracts),
    `payee_rates_missing` (payee currencies without a rate on the run, named with their payees),
    `report_not_ready`, or `approval_required` when ROYALTY_FINALISE_APPROVALS asks for more staff
    users' approval (given on the run's finalise page) than these statements have."""
    royalty = services.finalize_run(run=statement_selectors.get_run(run_id), user=request.user)
    return {
        "id": run_id,
        "sequence": royalty.sequence,
        "finalized_at": royalty.finalized_at.isoformat(),
        "statements": royalty.statement_set.statements.count(),
    }


def attachment(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=TYPES[filename.rsplit(".", 1)[1]])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the Royalties API -----------------------------------------------------------------------------

royalties_api = build_api(
    "royalties",
    title="Royalties API",
    scope="royalties",
    urls_namespace="statements:royalties-api",
    description=(
        "Payees, contracts (scope, rates and splits in percent, rate overrides), the payee ledger"
        " (advances, costs, payments, adjustments: positive amounts, the kind gives the sign;"
        " Idempotency-Key), the catalogue, unmatched income and its actions, and draft statements."
        ' Errors are {"error": {"code", "message", "problems": [{"loc", "msg"}]}}: 400 for a body that'
        " does not parse against its schema, 422 for values that do not hold together."
    ),
)


@royalties_api.exception_handler(InvalidInput)
def _unprocessable(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    # The schema checked the request's form (400): what a service refuses is its meaning. Its
    # problems name fields of the body, located as the schema's are (["body", "payload", …]).
    problems = [{**p, "loc": ["body", "payload", *p["loc"]]} for p in exc.problems]
    return royalties_api.error(request, 422, exc.message, code=exc.code, problems=problems)


ROYALTY_ROUTERS = [
    api_payees.router,
    api_contracts.router,
    api_ledger.router,
    api_catalogue.router,
    api_drafts.router,
    api_batches.router,
]
for _router in ROYALTY_ROUTERS:
    royalties_api.add_router("/", _router)
