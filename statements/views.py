"""HTTP layer of the statements app: the JSON API of the spec and the webhook (the staff pages are
in statements/pages.py)."""

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from project import storage
from project.api import BadRequest, api_view, json_body, json_error
from project.errors import Conflict, NotFound
from project.integrations import s3
from statements import pipeline, rates, report_files, selectors, services
from statements.models import SalesFile, StatementRun
from statements.report import ReportNotReady, build_report
from statements.webhook import WebhookRejected, parse_event, verify_signature

MAX_RATE_UPLOAD = 5 * 1024 * 1024
REPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def _json_404(view: Callable) -> Callable:
    """API clients get a JSON 404 naming what was not found, not the HTML error page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Http404 as exc:
            return json_error(404, str(exc) or "not found")

    return wrapper


# --- statement runs ------------------------------------------------------------------------------


@api_view(["POST"])
@_json_404
def run_create(request: HttpRequest) -> HttpResponse:
    data = _object(json_body(request))
    name = _storable(str(data.get("name") or "").strip(), "name")
    if not name or len(name) > 200:
        raise BadRequest("name is required (at most 200 characters)")
    currency = str(data.get("currency") or data.get("statement_currency") or "EUR").strip().upper()
    if not rates.valid_currency(currency):
        raise BadRequest(f"currency {currency!r} is not an ISO 4217 code")
    periods, period_from, period_to = _periods(data)
    try:
        run = services.create_run(
            name=name,
            currency=currency,
            artists=_strings(data, "artists"),
            dsps=_strings(data, "dsps"),
            periods=periods,
            period_from=period_from,
            period_to=period_to,
            sales_file_ids=_ids(data.get("salesfiles") or data.get("sales_files") or []),
            user=request.user,
        )
    except NotFound as exc:
        raise BadRequest(str(exc)) from None
    return JsonResponse({"id": run.pk}, status=201)


@api_view(["GET"])
@_json_404
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    return JsonResponse(selectors.run_data(get_object_or_404(StatementRun, pk=run_id)))


@api_view(["POST"])
@_json_404
def run_currencies(request: HttpRequest, run_id: int) -> HttpResponse:
    return _replace_set(request, run_id, rates.parse_rates, services.replace_rates)


@api_view(["POST"])
@_json_404
def run_currency_exceptions(request: HttpRequest, run_id: int) -> HttpResponse:
    return _replace_set(request, run_id, rates.parse_exceptions, services.replace_exceptions)


def _replace_set(request: HttpRequest, run_id: int, parse, replace) -> HttpResponse:
    run = get_object_or_404(StatementRun, pk=run_id)
    items, problems = parse(_rate_payload(request))
    if problems:
        return JsonResponse(
            {"error": "the rate set has errors; nothing was changed", "problems": problems}, status=400
        )
    try:
        replace(run=run, items=items, user=request.user)
    except Conflict as exc:
        return json_error(409, str(exc))
    except NotFound as exc:
        raise BadRequest(str(exc)) from None
    return JsonResponse({"status": "ok", "count": len(items)})


@api_view(["POST"])
@_json_404
def run_add_salesfile(request: HttpRequest, statement_id: int) -> HttpResponse:
    run = get_object_or_404(StatementRun, pk=statement_id)
    # The spec passes file_id "as a parameter": a JSON body, a form field or the query string.
    data = _object(json_body(request)) if request.content_type == "application/json" else request.POST
    raw = data.get("file_id") if data.get("file_id") not in (None, "") else request.GET.get("file_id")
    if raw in (None, ""):
        raise BadRequest("file_id is required")
    (file_id,) = _ids([raw])
    try:
        sales_file = services.add_sales_file(run=run, sales_file_id=file_id)
    except NotFound as exc:
        return json_error(404, str(exc))
    return JsonResponse({"status": "ok", "statement_run": run.pk, "file_id": sales_file.pk})


@api_view(["GET"])
@_json_404
def run_report(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(StatementRun, pk=run_id)
    kind = request.GET.get("format", "json").lower()
    if kind not in REPORT_TYPES:
        raise BadRequest(f"format must be one of {', '.join(REPORT_TYPES)}")
    try:
        report = build_report(run)
    except ReportNotReady as exc:
        body = {"error": str(exc), "files_not_processed": exc.files, "missing_rates": exc.missing_rates}
        return JsonResponse(body, status=409)
    services.record_report_generated(run=run)
    if kind == "json":
        return JsonResponse(report_files.as_json(report))
    content = report_files.as_csv(report) if kind == "csv" else report_files.as_xlsx(report)
    response = HttpResponse(content, content_type=REPORT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="statement-{run.pk}.{kind}"'
    return response


# --- sales files ---------------------------------------------------------------------------------


@api_view(["POST"])
@_json_404
def salesfile_create(request: HttpRequest) -> HttpResponse:
    data = _object(json_body(request))
    name = _storable(str(data.get("name") or "").strip(), "name")
    if not name or len(name) > 255:
        raise BadRequest("name (the original file name, at most 255 characters) is required")
    profile = data.get("profile") or ""
    if not isinstance(profile, str) or (profile and not pipeline.FORMAT_SLUG.fullmatch(profile)):
        raise BadRequest("profile must be an import profile slug (or ddex_dsr)")
    sales_file = services.create_sales_file(name=name, user=request.user, profile=profile)
    return JsonResponse({"id": sales_file.pk, "status": sales_file.status}, status=201)


@api_view(["GET"])
@_json_404
def salesfile_detail(request: HttpRequest, file_id: int) -> HttpResponse:
    return JsonResponse(selectors.sales_file_data(get_object_or_404(SalesFile, pk=file_id)))


@api_view(["POST"])
@_json_404
def salesfile_upload_url(request: HttpRequest, file_id: int) -> HttpResponse:
    sales_file = get_object_or_404(SalesFile, pk=file_id)
    try:
        services.check_uploadable(sales_file)
    except Conflict as exc:
        return json_error(409, str(exc))
    expiry, limit = settings.STATEMENTS_PRESIGNED_URL_EXPIRY, settings.STATEMENTS_MAX_UPLOAD_BYTES
    try:
        post = s3.presigned_post(sales_file.upload_key, expires=expiry, max_bytes=limit)
    except storage.Unavailable as exc:
        return json_error(503, str(exc))
    if post is None:
        content_url = request.build_absolute_uri(
            reverse("statements:salesfile-content", args=[sales_file.pk])
        )
        return JsonResponse(
            {
                "id": sales_file.pk,
                "url": content_url,
                "method": "POST",
                "field": "file",
                "expires_in": None,
                "detail": "The storage is local files, so there is no presigned S3 URL: "
                "upload the file as multipart/form-data field 'file' to this URL.",
            }
        )
    return JsonResponse(
        {
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
    )


@api_view(["POST"])
@_json_404
def salesfile_content(request: HttpRequest, file_id: int) -> HttpResponse:
    sales_file = get_object_or_404(SalesFile, pk=file_id)
    limit = settings.STATEMENTS_MAX_UPLOAD_BYTES
    # Refuse before reading the body when the client announces too much.
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
        return json_error(413, f"the file is larger than the {limit}-byte limit; use the upload-url")
    upload = request.FILES.get("file") or next(iter(request.FILES.values()), None)
    if upload is None:
        raise BadRequest("send the file as multipart/form-data field 'file'")
    if upload.size > limit:
        return json_error(413, f"the file is larger than the {limit}-byte limit; use the upload-url")
    try:
        sales_file = services.store_content(sales_file=sales_file, content=upload)
    except Conflict as exc:
        return json_error(409, str(exc))
    except storage.Unavailable as exc:
        return json_error(503, str(exc))
    return JsonResponse({"id": sales_file.pk, "status": sales_file.status, "size": sales_file.size})


@api_view(["POST"])
@_json_404
def salesfile_process(request: HttpRequest, file_id: int) -> HttpResponse:
    sales_file = get_object_or_404(SalesFile, pk=file_id)
    try:
        sales_file = pipeline.start(sales_file)
    except Conflict as exc:
        return json_error(409, str(exc))
    except storage.Unavailable as exc:
        return json_error(503, str(exc))
    return JsonResponse({"id": sales_file.pk, "status": sales_file.status}, status=202)


@api_view(["GET"])
@_json_404
def salesfile_rejected(request: HttpRequest, file_id: int) -> HttpResponse:
    """The rejected-lines report (CSV: line, reason) written by the cleaning."""
    sales_file = get_object_or_404(SalesFile, pk=file_id)
    try:
        stream = storage.open_stream(sales_file.rejected_key)
    except storage.Missing:
        return json_error(404, f"sales file {sales_file.pk} has no rejected-lines report yet")
    except storage.Unavailable as exc:
        return json_error(503, str(exc))
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"salesfile-{sales_file.pk}-rejected.csv",
        content_type="text/csv",
    )


# --- webhook -------------------------------------------------------------------------------------


@csrf_exempt
def webhook(request: HttpRequest) -> HttpResponse:
    """Signed reports from an external cleaning/import module (scheme in statements/webhook.py)."""
    if request.method != "POST":
        response = json_error(405, f"Method {request.method} not allowed")
        response["Allow"] = "POST"
        return response
    secret = settings.STATEMENTS_WEBHOOK_SECRET
    if not secret:
        return json_error(503, "the webhook is not configured (STATEMENTS_WEBHOOK_SECRET is empty)")
    try:
        verify_signature(request.body, request.headers.get("X-Signature", ""), secret)
        try:
            payload = json.loads(request.body)
        except (ValueError, RecursionError):
            raise WebhookRejected(400, "the body is not valid JSON") from None
        event = parse_event(payload, now=timezone.now(), max_age=settings.STATEMENTS_WEBHOOK_MAX_AGE)
        sales_file = pipeline.on_webhook(event)
    except WebhookRejected as exc:
        return json_error(exc.status, str(exc))
    except NotFound as exc:
        return json_error(404, str(exc))
    except Conflict as exc:
        return json_error(409, str(exc))
    return JsonResponse({"id": sales_file.pk, "status": sales_file.status})


# --- input helpers -------------------------------------------------------------------------------


def _object(data: object) -> dict:
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _strings(data: dict, key: str) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BadRequest(f"{key} must be a list of non-empty strings")
    return [_storable(v.strip(), key) for v in value]


def _storable(text: str, key: str) -> str:
    if not rates.storable(text):
        raise BadRequest(f"{key} holds characters that cannot be stored (NUL or a lone surrogate)")
    return text


def _ids(values: object) -> list[int]:
    if not isinstance(values, list):
        raise BadRequest("sales file ids must be a list of integers")
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise BadRequest("sales file ids must be integers") from None


def _periods(data: dict) -> tuple[list[str], str, str]:
    """`periods` as a list of YYYY-MM, or as {"from", "to"}; `period_from`/`period_to` also work."""
    value = data.get("periods") or []
    period_from, period_to = data.get("period_from") or "", data.get("period_to") or ""
    if isinstance(value, dict):
        period_from, period_to, value = value.get("from") or "", value.get("to") or "", []
    periods = _strings({"periods": value}, "periods")
    for period in [*periods, period_from, period_to]:
        if period and not (isinstance(period, str) and rates.valid_period(period)):
            raise BadRequest(f"period {period!r} is not YYYY-MM")
    if period_from and period_to and period_from > period_to:
        raise BadRequest("the period range ends before it starts")
    return periods, period_from, period_to


def _rate_payload(request: HttpRequest) -> list | str:
    """A JSON list (or an object holding one) or CSV text, from a JSON body, a file or a text body."""
    if request.content_type == "multipart/form-data":
        upload = next(iter(request.FILES.values()), None)
        if upload is None:
            raise BadRequest("attach the CSV file (currency,period,rate)")
        if upload.size > MAX_RATE_UPLOAD:
            raise BadRequest("the rate file is too large")
        return _text(upload.read())
    if request.content_type == "application/json" or request.body.lstrip()[:1] in (b"[", b"{"):
        data = json_body(request)
        if isinstance(data, dict):
            data = next((data[k] for k in ("rates", "currencies", "exceptions", "items") if k in data), None)
        if not isinstance(data, list):
            raise BadRequest("send a JSON list of rates, or a CSV file")
        return data
    return _text(request.body)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text") from None
