"""The statements JSON API (django-ninja): the spec's statement-run and sales-file endpoints and the
signed webhook. Schemas are declared once here; the OpenAPI document is generated from them at
/api/statements/openapi.json. Services raise `project.errors`; `project.api` maps them to
`{"error": {"code", "message", "problems"}}`. Error codes of this API: `run_not_found`,
`salesfile_not_found`, `salesfile_no_content`, `salesfile_not_uploadable`, `salesfile_busy`, `salesfile_paid`,
`salesfile_not_mappable`, `mapping_invalid` (422),
`invalid_transition`, `rates_frozen`, `rate_set_invalid`, `report_not_ready`, `file_too_large`,
`rejected_report_missing`, `webhook_rejected`, `webhook_replayed`, `webhook_not_configured`, and
the shared ones (`invalid_input`, `unauthenticated`, `invalid_token`, `not_found`, `forbidden`, `unavailable`…).
"""

import json
from typing import Literal

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Query, Schema, Status
from ninja.files import UploadedFile
from pydantic import ValidationError as PydanticValidationError
from pydantic import field_validator, model_validator

from project import storage
from project.api import build_api
from project.errors import Conflict, InvalidInput
from project.integrations import s3
from statements import mapping, pipeline, rates, report_files, selectors, services
from statements.cleaners.dsr import BASES, DEFAULT_BASIS
from statements.report import build_report
from statements.royalties import services as royalty_services
from statements.royalties.api import router as royalty_router
from statements.webhook import WebhookRejected, parse_event, verify_signature

api = build_api(
    "statements",
    title="Statements API",
    scope="statements",
    urls_namespace="statements:api",
    openapi_url="/statements/openapi.json",
    description="Statement runs, exchange rates, sales files and their processing pipeline, reports.",
)
api.add_router("/", royalty_router)  # royalty statements and finalisation: statements/royalties/api.py
MAX_RATE_UPLOAD = 5 * 1024 * 1024
REPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# --- schemas -------------------------------------------------------------------------------------


def _required_name(value: str) -> str:
    """A run's or a sales file's name: trimmed, storable, not empty."""
    value = _storable(value.strip())
    if not value:
        raise ValueError("name is required")
    return value


def _storable(value: str) -> str:
    if not rates.storable(value):
        raise ValueError("holds characters that cannot be stored (NUL or a lone surrogate)")
    return value


def _period(value: str) -> str:
    if value and not rates.valid_period(value):
        raise ValueError(f"period {value!r} is not YYYY-MM")
    return value


class PeriodRange(Schema):
    from_: str = Field("", alias="from")
    to: str = ""


class RunIn(Schema):
    name: str = Field(min_length=1, max_length=200, description="Required; at most 200 characters.")
    currency: str | None = Field(None, description="ISO 4217 statement currency; default EUR.")
    statement_currency: str | None = Field(None, description="Alias of currency.")
    artists: list[str] = Field(default_factory=list, description="Empty means every artist.")
    dsps: list[str] = Field(default_factory=list, description="Empty means every DSP.")
    periods: list[str] | PeriodRange = Field(
        default_factory=list, description='YYYY-MM list, or {"from", "to"}; empty means any.'
    )
    period_from: str = ""
    period_to: str = ""
    salesfiles: list[int] = Field(default_factory=list, description="Sales file ids (alias: sales_files).")
    sales_files: list[int] = Field(default_factory=list)

    _name = field_validator("name")(_required_name)

    @field_validator("artists", "dsps")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        if not all(v.strip() for v in values):
            raise ValueError("must be a list of non-empty strings")
        return [_storable(v.strip()) for v in values]

    @model_validator(mode="after")
    def _periods(self) -> "RunIn":
        currency = (self.currency or self.statement_currency or "EUR").strip().upper()
        if not rates.valid_currency(currency):
            raise ValueError(f"currency {currency!r} is not an ISO 4217 code")
        self.currency = currency
        if isinstance(self.periods, PeriodRange):
            self.period_from, self.period_to, self.periods = self.periods.from_, self.periods.to, []
        for period in [*self.periods, self.period_from, self.period_to]:
            _period(period)
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise ValueError("the period range ends before it starts")
        return self


BASIS_HELP = f"DDEX DSR income column: {', '.join(BASES)} (docs/sales-reports.md); default {DEFAULT_BASIS}."


class Created(Schema):
    id: int


class SalesFileIn(Schema):
    name: str = Field(min_length=1, max_length=255, description="The original file name, for display only.")
    profile: str = Field(
        "",
        pattern=f"^({pipeline.FORMAT_SLUG.pattern})?$",
        description='An import profile slug, "ddex_dsr" or "clicknclear".',
    )
    revenue_basis: Literal["", *BASES] = Field("", description=BASIS_HELP + " Blank: the default.")

    _name = field_validator("name")(_required_name)


class ProcessIn(Schema):
    allow_duplicate: bool = Field(False, description="Import the same bytes as an earlier sales file anyway.")
    reason: str = Field("", max_length=2000, description="Why, with allow_duplicate (kept on the file).")
    revenue_basis: Literal["", *BASES] | None = Field(
        None, description=BASIS_HELP + " Blank: the default; absent: as the file has it."
    )


def _process_options(request: HttpRequest) -> ProcessIn:
    """The optional body of process/: JSON, or form fields; clients that send none start
    processing as before."""
    try:
        if request.content_type == "application/json" and request.body.strip():
            return ProcessIn.model_validate_json(request.body)
        return ProcessIn.model_validate(request.POST.dict())
    except PydanticValidationError as exc:
        problems = [{"loc": ["body", *map(str, e["loc"])], "msg": e["msg"]} for e in exc.errors()]
        raise InvalidInput(f"Invalid request ({problems[0]['msg']})", problems=problems) from None


class SalesFileCreated(Schema):
    id: int
    status: str


class Progress(Schema):
    processed: int
    total: int | None
    percent: float | None


class CurrencyTotal(Schema):
    lines: int
    units: int
    revenue: str = Field(description="Exact decimal, in the source currency.")


class Reconciliation(Schema):
    source: str = Field(
        description="Exact sum of the file's amount column over its sales lines (voids as reversals)."
    )
    imported: str | None = Field(None, description="Exact sum of the imported lines (once processed).")
    rejected: str = Field(description="Exact sum of the rejected lines whose amount reads.")
    difference: str | None = Field(None, description="source - imported - rejected: zero, or the file fails.")


FILE_STATUSES = "INITIALIZED, UPLOADED, CLEANING, CLEANED, IMPORTING, PROCESSED, FAILED or NEEDS_MAPPING"


class SalesFileOut(Schema):
    id: int
    name: str
    status: str = Field(
        description=f"{FILE_STATUSES}. NEEDS_MAPPING: no import profile reads the file's header; "
        "map its columns (PUT mapping/) and it is processed."
    )
    failure_reason: str = Field(
        description="In the request's language (Accept-Language; English by default)."
    )
    failure_code: str = Field(description='The reason\'s code ("" for none or a reason without one).')
    failure_params: dict = Field(description="The reason's parameters.")
    profile: str | None
    format: str
    revenue_basis: Literal[*BASES] | None = Field(
        description=BASIS_HELP + " Asked for before processing (null: the default), then the one the "
        "cleaning of a DSR file used."
    )
    detail: str
    warnings: list[str]
    size: int | None
    lines_read: int
    lines_valid: int
    lines_imported: int
    lines_rejected: int
    totals: dict[str, CurrencyTotal]
    reconciliation: dict[str, Reconciliation] = Field(description="Per source currency.")
    sha256: str = Field(description="SHA-256 of the content processed ('' before).")
    duplicate_of: int | None = Field(
        description="The earlier sales file with the same bytes, imported anyway."
    )
    duplicate_reason: str = Field(description="Why it was imported anyway.")
    declared: dict
    progress: Progress
    rejected_report: str | None
    lease_until: str | None
    stale: bool
    created_at: str
    status_changed_at: str


class Filters(Schema):
    artists: list[str]
    dsps: list[str]
    periods: list[str]
    period_from: str | None
    period_to: str | None


class RateOut(Schema):
    currency: str
    period: str
    rate: str


class PayeeRateOut(Schema):
    currency: str
    rate: str = Field(description="1 unit of the run's currency in this payee currency.")
    source: str
    date: str


class ExceptionOut(Schema):
    currency: str
    rate: str
    dsp: str | None
    salesfile: int | None
    period: str | None


class Control(Schema):
    lines_read: int
    lines_imported: int
    lines_rejected: int
    totals: dict[str, CurrencyTotal]


class RunOut(Schema):
    id: int
    name: str
    currency: str
    status: str = Field(
        description="NO_FILES, PROCESSING, FAILED, NEEDS_MAPPING (a file waits for its columns to be "
        "mapped) or PROCESSED: as far as its least advanced file."
    )
    filters: Filters
    files: list[SalesFileOut]
    control: Control
    rates: list[RateOut]
    currency_exceptions: list[ExceptionOut]
    payee_currencies: list[PayeeRateOut]
    report_generated_at: str | None
    created_at: str


class SetReplaced(Schema):
    status: str
    count: int


class FileAdded(Schema):
    status: str
    statement_run: int
    file_id: int


class ReportRowOut(Schema):
    artist: str
    dsp: str
    period: str
    territory: str
    source_currency: str
    units: int
    gross_source: str
    rate: str
    gross: str = Field(description="Rounded once, half-even, to the currency's minor unit.")
    exact: str = Field(description="The unrounded figure.")


class ArtistTotalOut(Schema):
    artist: str
    units: int
    total: str
    exact: str


class DspTotalOut(Schema):
    dsp: str
    units: int
    total: str
    exact: str


class FileControl(Schema):
    id: int
    name: str
    format: str
    detail: str
    warnings: list[str]
    lines_read: int
    lines_valid: int
    lines_imported: int
    lines_rejected: int
    totals: dict[str, CurrencyTotal]
    declared: dict


class ReportOut(Schema):
    currency: str
    rows: list[ReportRowOut]
    artists: list[ArtistTotalOut]
    dsps: list[DspTotalOut]
    grand_total: str
    grand_total_exact: str
    units: int
    files: list[FileControl]
    control: Control


class UploadUrl(Schema):
    id: int
    url: str
    method: Literal["POST", "PUT"]
    field: str
    fields: dict[str, str] | None = None
    max_bytes: int | None = None
    expires_in: int | None
    detail: str


class Stored(Schema):
    id: int
    status: str
    size: int | None


class ReportQuery(Schema):
    format: Literal["json", "csv", "xlsx"] = "json"

    @field_validator("format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class MappingIn(Schema):
    columns: dict[str, str] = Field(
        description="Our field → the file's column header that feeds it. Fields: period (a month or "
        "a sale date), dsp, territory, isrc, upc, artist, title, release, units, revenue, currency, "
        "sale_type, void (a column whose values mark void/return rows), commercial_model."
    )
    fixed: dict[str, str] = Field(
        default_factory=dict,
        description="A value for every line of a field without a column: period, dsp, territory, "
        'currency or sale_type, e.g. {"currency": "EUR", "dsp": "Spotify"}.',
    )
    date_order: Literal["mdy", "dmy"] = Field("mdy", description="mdy: 06/30/2025; dmy: 30/06/2025.")
    decimal_separator: Literal["", ".", ","] = Field(
        "", description='"." (1,234.56), "," (1.234,56), or "" to decide by the delimiter.'
    )
    void_values: list[str] = Field(
        default_factory=list,
        description="Values of the void column (or of the sale type) that mark a reversal: units and "
        "revenue become negative.",
    )
    skip_values: list[str] = Field(
        default_factory=list,
        description="Sale-type values of rows that are no sales (skipped as structure). Totals rows "
        "(Total, Grand total…) and a text trailer are recognised as structure anyway.",
    )
    skip_markers: list[str] = Field(
        default_factory=list,
        description="Values that, in any column of a row, mark it as no sale (a totals or trailer row "
        'the file has in its own words, e.g. ["Totale", "Subtotal"]): the row is skipped as structure and '
        "counted in a warning. Compared as header names are: case, spaces and punctuation aside.",
    )

    def as_mapping(self) -> mapping.Mapping:
        return mapping.Mapping(
            columns=self.columns,
            fixed=self.fixed,
            date_order=self.date_order,
            decimal_separator=self.decimal_separator,
            void_values=self.void_values,
            skip_values=self.skip_values,
            skip_markers=self.skip_markers,
        )


class MappingSaveIn(MappingIn):
    save: bool = Field(
        True,
        description="Save as an import profile, read from then on for every file with this header; "
        "false: kept for this file only.",
    )
    name: str = Field("", max_length=200, description="The import profile's name (default: the file's).")

    _name = field_validator("name")(_storable)


class MappingTable(Schema):
    header_line: int = Field(description="The header row's line in the file (1-based).")
    columns: list[str]
    rows: list[list[str]] = Field(description="The first 20 rows after the header.")


class MappingOut(Schema):
    id: int
    status: str
    failure_reason: str
    table: MappingTable
    suggested: dict[str, str] = Field(
        description="A first guess, field → column, from the built-in profiles."
    )
    fields: list[str]
    fixable: list[str]


class CleanedLine(Schema):
    line_number: int = Field(description="The line in the file (1-based).")
    period: str
    dsp: str
    artist: str
    isrc: str
    upc: str
    title: str
    territory: str
    units: str
    revenue: str = Field(description="Exact decimal; negative for voids/returns.")
    currency: str
    sale_type: str
    use_type: str
    commercial_model: str
    release: str


class MappingPreview(Schema):
    table: MappingTable
    lines: list[CleanedLine] = Field(description="The first 20 cleaned lines.")
    totals: dict[str, CurrencyTotal] = Field(description="Per currency, over the whole file; exact.")
    lines_read: int
    lines_valid: int
    lines_rejected: int
    warnings: list[str]
    problems: list[dict] = Field(description="Empty: the mapping may be saved.")


class MappingSaved(Schema):
    id: int
    status: str
    profile: str
    saved: bool


RATE_BODY = {
    "requestBody": {
        "description": "A JSON list (or an object holding it under rates/currencies/exceptions/items), "
        "CSV text with a header row (`,` or `;`), or a CSV file as multipart/form-data.",
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


# --- statement runs ------------------------------------------------------------------------------


@api.post("/statement_run/", response={201: Created, **api.errors(404)}, tags=["statement runs"])
def run_create(request: HttpRequest, payload: RunIn):
    """Create a statement run. 404 `salesfile_not_found` for an unknown sales file id."""
    run = services.create_run(
        name=payload.name,
        currency=payload.currency,
        artists=payload.artists,
        dsps=payload.dsps,
        periods=payload.periods,
        period_from=payload.period_from,
        period_to=payload.period_to,
        sales_file_ids=payload.salesfiles or payload.sales_files,
        user=request.user,
    )
    return Status(201, {"id": run.pk})


@api.get("/statement_run/{run_id}/", response={200: RunOut, **api.errors(404)}, tags=["statement runs"])
def run_detail(request: HttpRequest, run_id: int):
    """A run with its filters, files (status, progress, control totals), rates and exceptions."""
    return selectors.run_data(selectors.get_run(run_id))


@api.post(
    "/statement_run/{run_id}/currencies/",
    response={200: SetReplaced, **api.errors(404, 409)},
    openapi_extra=RATE_BODY,
    tags=["statement runs"],
)
def run_currencies(request: HttpRequest, run_id: int):
    """Replace the run's exchange rates (currency, period, rate). 400 `rate_set_invalid` lists
    every problem and changes nothing; 409 `rates_frozen` once a report was generated."""
    return _replace_set(request, run_id, rates.parse_rates, services.replace_rates)


@api.post(
    "/statement_run/{run_id}/currencies_exception/",
    response={200: SetReplaced, **api.errors(404, 409)},
    openapi_extra=RATE_BODY,
    tags=["statement runs"],
)
def run_currency_exceptions(request: HttpRequest, run_id: int):
    """Replace the run's rate exceptions (currency, rate, dsp and/or salesfile, optional period)."""
    return _replace_set(request, run_id, rates.parse_exceptions, services.replace_exceptions)


@api.post(
    "/statement_run/{run_id}/payee_currencies/",
    response={200: SetReplaced, **api.errors(404, 409)},
    openapi_extra=RATE_BODY,
    tags=["statement runs"],
)
def run_payee_currencies(request: HttpRequest, run_id: int):
    """Replace the run's payee currency rates (currency, rate, source, date): 1 unit of the run's
    currency in each payee currency other than the run's. 400 `rate_set_invalid`; 409
    `payee_rates_frozen` once the run is finalised."""
    return _replace_set(request, run_id, rates.parse_payee_rates, royalty_services.replace_payee_rates)


def _replace_set(request: HttpRequest, run_id: int, parse, replace) -> dict:
    run = selectors.get_run(run_id)
    items, problems = parse(_rate_payload(request))
    if problems:
        raise InvalidInput(
            "the rate set has errors; nothing was changed",
            code="rate_set_invalid",
            problems=[{"loc": [problem.partition(":")[0]], "msg": problem} for problem in problems],
        )
    replace(run=run, items=items, user=request.user)
    return {"status": "ok", "count": len(items)}


@api.post(
    "/statement_run/{statement_id}/add-salesfile/",
    response={200: FileAdded, **api.errors(404)},
    openapi_extra={
        "requestBody": {
            "description": "file_id as JSON, as a form field, or as the query parameter `file_id`.",
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": {"file_id": {"type": "integer"}}}
                }
            },
        }
    },
    tags=["statement runs"],
)
def run_add_salesfile(request: HttpRequest, statement_id: int):
    """Relate a sales file to the run (idempotent)."""
    run = selectors.get_run(statement_id)
    # The spec passes file_id "as a parameter": a JSON body, a form field or the query string.
    data = _json_object(request) if request.content_type == "application/json" else request.POST
    raw = data.get("file_id") if data.get("file_id") not in (None, "") else request.GET.get("file_id")
    try:
        file_id = int(raw)
    except (TypeError, ValueError):
        raise InvalidInput(
            "file_id (a sales file id) is required",
            problems=[{"loc": ["file_id"], "msg": "an integer is required"}],
        ) from None
    sales_file = services.add_sales_file(run=run, sales_file_id=file_id)
    return {"status": "ok", "statement_run": run.pk, "file_id": sales_file.pk}


@api.get(
    "/statement_run/{run_id}/report/",
    response={200: ReportOut, **api.errors(404, 409)},
    openapi_extra={
        "responses": {
            200: {
                "description": "The report: JSON, or a CSV / XLSX attachment (format=csv|xlsx)",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    REPORT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
    url_name="run_report",
    tags=["statement runs"],
)
def run_report(request: HttpRequest, run_id: int, query: Query[ReportQuery]):
    """The statement report. 409 `report_not_ready` until every file is PROCESSED and every
    (currency, period) other than the run's own has a rate; `problems` name what is missing."""
    run = selectors.get_run(run_id)
    report = build_report(run)
    services.record_report_generated(run=run)
    if query.format == "json":
        return report_files.as_json(report)
    content = report_files.as_csv(report) if query.format == "csv" else report_files.as_xlsx(report)
    response = HttpResponse(content, content_type=REPORT_TYPES[query.format])
    response["Content-Disposition"] = (
        f'attachment; filename="{report_files.download_name(run, "statement", query.format)}"'
    )
    return response


# --- sales files ---------------------------------------------------------------------------------


@api.post("/files/salesfiles/", response={201: SalesFileCreated}, tags=["sales files"])
def salesfile_create(request: HttpRequest, payload: SalesFileIn):
    """Create a sales file (INITIALIZED); `profile` skips format detection."""
    sales_file = services.create_sales_file(
        name=payload.name, user=request.user, profile=payload.profile, revenue_basis=payload.revenue_basis
    )
    return Status(201, {"id": sales_file.pk, "status": sales_file.status})


@api.get(
    "/files/salesfiles/{file_id}/", response={200: SalesFileOut, **api.errors(404)}, tags=["sales files"]
)
def salesfile_detail(request: HttpRequest, file_id: int):
    """Status, progress, detected format, warnings and control totals of a sales file."""
    return selectors.sales_file_data(selectors.get_sales_file(file_id))


@api.post(
    "/files/salesfiles/{file_id}/upload-url/",
    response={200: UploadUrl, **api.errors(404, 409)},
    tags=["sales files"],
)
def salesfile_upload_url(request: HttpRequest, file_id: int):
    """Where to upload the content: a presigned S3 POST (form `fields`, then the file as `field`;
    S3 refuses bodies over `max_bytes`), or on local storage this API's content/ URL."""
    sales_file = selectors.get_sales_file(file_id)
    services.check_uploadable(sales_file)
    expiry, limit = settings.STATEMENTS_PRESIGNED_URL_EXPIRY, settings.STATEMENTS_MAX_UPLOAD_BYTES
    post = s3.presigned_post(sales_file.upload_key, expires=expiry, max_bytes=limit)
    if post is None:
        content_url = request.build_absolute_uri(
            reverse("statements:api:salesfile_content", args=[sales_file.pk])
        )
        return {
            "id": sales_file.pk,
            "url": content_url,
            "method": "POST",
            "field": "file",
            "expires_in": None,
            "detail": "The storage is local files, so there is no presigned S3 URL: "
            "upload the file as multipart/form-data field 'file' to this URL.",
        }
    return {
        "id": sales_file.pk,
        "url": post["url"],
        "method": "POST",
        "fields": post["fields"],
        "field": "file",
        "expires_in": expiry,
        "max_bytes": limit,
        "detail": "POST multipart/form-data: every entry of 'fields', then the file as field 'file' "
        f"(at most {limit} bytes).",
    }


@api.post(
    "/files/salesfiles/{file_id}/content/",
    response={200: Stored, **api.errors(404, 409, 413)},
    url_name="salesfile_content",
    tags=["sales files"],
)
def salesfile_content(
    request: HttpRequest,
    file_id: int,
    file: File[UploadedFile],
    allow_duplicate: Form[bool] = False,
    reason: Form[str] = "",
):
    """Upload the file body (multipart field `file`). 413 `file_too_large` over the limit; 409
    `salesfile_duplicate` when an earlier sales file has the same bytes (SHA-256), naming it and its
    runs, unless sent with `allow_duplicate=true` and a `reason`, which is kept."""
    sales_file = selectors.get_sales_file(file_id)
    limit = settings.STATEMENTS_MAX_UPLOAD_BYTES
    if file.size > limit:
        message = f"the file is larger than the {limit}-byte limit; use the upload-url"
        return api.error(request, 413, message, code="file_too_large")
    sales_file = services.store_content(
        sales_file=sales_file, content=file, allow_duplicate=allow_duplicate, reason=reason
    )
    return {"id": sales_file.pk, "status": sales_file.status, "size": sales_file.size}


@api.post(
    "/files/salesfiles/{file_id}/process/",
    response={202: SalesFileCreated, **api.errors(400, 404, 409)},
    tags=["sales files"],
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": ProcessIn.model_json_schema()}},
        }
    },
)
def salesfile_process(request: HttpRequest, file_id: int):
    """Start (or restart) processing: a new, FAILED, PROCESSED or abandoned file, with the body's
    `revenue_basis` if it names one (a DSR file's income column). 409
    `salesfile_no_content` before an upload, `salesfile_busy` while a task holds the file,
    `salesfile_duplicate` when an earlier sales file has the same bytes (SHA-256), naming it and
    its runs, unless the body says `{"allow_duplicate": true, "reason": "…"}` (the reason is kept)."""
    options = _process_options(request)
    sales_file = pipeline.start(
        selectors.get_sales_file(file_id),
        allow_duplicate=options.allow_duplicate,
        reason=options.reason,
        revenue_basis=options.revenue_basis,
    )
    return Status(202, {"id": sales_file.pk, "status": sales_file.status})


@api.get(
    "/files/salesfiles/{file_id}/rejected/",
    response={200: None, **api.errors(404)},
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV: line, reason, code, params (JSON)",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
    url_name="salesfile_rejected",
    tags=["sales files"],
)
def salesfile_rejected(request: HttpRequest, file_id: int):
    """The rejected-lines report the cleaning wrote (CSV: line, the English reason, and for the
    delimited formats its code and parameters as JSON, which the run page translates)."""
    sales_file = selectors.get_sales_file(file_id)
    if not storage.exists(sales_file.rejected_key):
        return api.error(
            request,
            404,
            f"sales file {sales_file.pk} has no rejected-lines report yet",
            code="rejected_report_missing",
        )
    return FileResponse(
        storage.open_stream(sales_file.rejected_key),
        as_attachment=True,
        filename=f"salesfile-{sales_file.pk}-rejected.csv",
        content_type="text/csv",
    )


# --- column mapping (a file in NEEDS_MAPPING) -----------------------------------------------------


@api.get(
    "/files/salesfiles/{file_id}/mapping/",
    response={200: MappingOut, **api.errors(404, 409)},
    tags=["sales files"],
)
def salesfile_mapping(request: HttpRequest, file_id: int):
    """The file's first 20 rows as a table (header row found as the cleaning does), with a
    suggested mapping: what a client shows to map a file no import profile reads."""
    sales_file = selectors.get_sales_file(file_id)
    table = _sample(sales_file)
    return {
        "id": sales_file.pk,
        "status": sales_file.status,
        "failure_reason": sales_file.failure_reason,
        "table": vars(table),
        "suggested": mapping.suggested(table.columns),
        "fields": list(mapping.FIELDS),
        "fixable": list(mapping.FIXABLE),
    }


@api.post(
    "/files/salesfiles/{file_id}/mapping/preview/",
    response={200: MappingPreview, **api.errors(404, 409, 422)},
    tags=["sales files"],
)
def salesfile_mapping_preview(request: HttpRequest, file_id: int, payload: MappingIn):
    """The file read through a proposed mapping: the first 20 cleaned lines and the totals per
    currency. 422 `mapping_invalid` when a field or a line does not read (`problems`, `loc`
    `["columns", field]` or `["line", n]`)."""
    sales_file = selectors.get_sales_file(file_id)
    result = mapping.preview(sales_file, payload.as_mapping(), _sample(sales_file))
    if result["problems"]:
        return _mapping_invalid(request, result["problems"])
    return result


@api.put(
    "/files/salesfiles/{file_id}/mapping/",
    response={202: MappingSaved, **api.errors(404, 409, 422)},
    tags=["sales files"],
)
def salesfile_mapping_save(request: HttpRequest, file_id: int, payload: MappingSaveIn):
    """Map the columns of a file in NEEDS_MAPPING (or FAILED): checked as the preview is (422
    `mapping_invalid`, nothing saved), stored as an import profile (`save`: matched by this
    header from then on) and the file is queued for processing. 409 `salesfile_not_mappable`."""
    sales_file = selectors.get_sales_file(file_id)
    proposed = payload.as_mapping()
    table = _sample(sales_file)
    result = mapping.preview(sales_file, proposed, table)
    if result["problems"]:
        return _mapping_invalid(request, result["problems"])
    profile = services.save_mapping(
        sales_file=sales_file,
        profile=mapping.profile_fields(proposed, table),
        name=payload.name or sales_file.name,
        save=payload.save,
        user=request.user,
    )
    pipeline.start(sales_file, source="api")
    status = selectors.get_sales_file(file_id).status
    return Status(
        202, {"id": sales_file.pk, "status": status, "profile": profile.slug, "saved": profile.active}
    )


def _sample(sales_file) -> mapping.Sample:
    try:
        return mapping.sample(sales_file)
    except storage.Missing:
        raise Conflict(
            f"sales file {sales_file.pk} has no content yet", code="salesfile_no_content"
        ) from None


def _mapping_invalid(request: HttpRequest, problems: list[dict]) -> HttpResponse:
    first = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems[:3])
    message = f"the mapping does not read the file; nothing was saved ({first})"
    return api.error(request, 422, message, code="mapping_invalid", problems=problems)


# --- webhook -------------------------------------------------------------------------------------


@api.post(
    "/statements/webhook/",
    auth=None,
    response={200: SalesFileCreated, **api.errors(401, 404, 409)},
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        "parameters": [
            {"name": "X-Signature", "in": "header", "required": True, "schema": {"type": "string"}}
        ],
    },
    tags=["webhook"],
)
def webhook(request: HttpRequest):
    """Signed reports from an external cleaning/import module (scheme in statements/webhook.py):
    401 `webhook_rejected` for a missing, wrong or stale signature, 409 `webhook_replayed`."""
    secret = settings.STATEMENTS_WEBHOOK_SECRET
    if not secret:
        message = "the webhook is not configured (STATEMENTS_WEBHOOK_SECRET is empty)"
        return api.error(request, 503, message, code="webhook_not_configured")
    try:
        verify_signature(request.body, request.headers.get("X-Signature", ""), secret)
        event = parse_event(
            _json(request.body), now=timezone.now(), max_age=settings.STATEMENTS_WEBHOOK_MAX_AGE
        )
    except WebhookRejected as exc:
        return api.error(request, exc.status, str(exc), code="webhook_rejected")
    sales_file = pipeline.on_webhook(event)
    return {"id": sales_file.pk, "status": sales_file.status}


# --- input helpers -------------------------------------------------------------------------------


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw or b"null")
    except (ValueError, RecursionError) as exc:
        raise WebhookRejected(400, f"the body is not valid JSON: {type(exc).__name__}") from None


def _json_object(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"Body is not valid JSON: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data


def _rate_payload(request: HttpRequest) -> list | str:
    """A JSON list (or an object holding one) or CSV text, from a JSON body, a file or a text body."""
    if request.content_type == "multipart/form-data":
        upload = next(iter(request.FILES.values()), None)
        if upload is None:
            raise InvalidInput("attach the CSV file (currency,period,rate)")
        if upload.size > MAX_RATE_UPLOAD:
            raise InvalidInput("the rate file is too large")
        return _text(upload.read())
    if request.content_type == "application/json" or request.body.lstrip()[:1] in (b"[", b"{"):
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(f"Body is not valid JSON: {type(exc).__name__}: {str(exc)[:200]}") from None
        if isinstance(data, dict):
            data = next((data[k] for k in ("rates", "currencies", "exceptions", "items") if k in data), None)
        if not isinstance(data, list):
            raise InvalidInput("send a JSON list of rates, or a CSV file")
        return data
    return _text(request.body)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is not UTF-8 text") from None
