"""The Settle JSON API on django-ninja (project.api): operations over services and selectors, in the
spec's `{"output": …}` envelopes and SETTLE-0x errors, with the generated OpenAPI document at
/settlement/openapi.json. Every path also answers with (or without) the trailing slash the spec
leaves out (has), as the original's clients use both; the document lists the spec's spelling.

Bodies are read with the exact JSON decoder and checked by the pure parsers (settlement.schemas says
why), so operations take the request and return ready responses: byte for byte the original's
compact, sorted JSON, which ninja's renderer would space out.
"""

import gc
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Query

from project import idempotency
from project.api import build_api
from settlement import schemas, selectors, services
from settlement.documents import structure_document
from settlement.errors import FunctionalError, InvalidInput, SettleError, code_for_status

logger = logging.getLogger(__name__)
BIGINT_MAX = 2**63 - 1  # a larger `limit` overflows PostgreSQL's LIMIT (found by Schemathesis)
TRUE_VALUES = {"1", "true", "yes"}
# Headers of a reply that belong to its stored copy (replayed with it).
STORED_HEADERS = ("Settlement-Hash",)


def settle_error_body(status: int, code: str, message: str, problems: list) -> dict[str, Any]:
    """The spec's error body: the SETTLE code follows from the status (see settlement.errors)."""
    return {"error": {"code": code_for_status(status), "message": message}}


api = build_api(
    "settlement",
    title="Settle API",
    scope="settlement",
    urls_namespace="settlement:api",
    error_body=settle_error_body,
    error_schema=schemas.SettleError,
    description=(
        "Settlement structures: aggregate records per primary key (mcCounter counts the records"
        " carrying each field, 1CDR sums them exactly, min, max, latest, uniqueCount), settle, clear,"
        " history, a tamper-evident hash chain (verify) and idempotent retries (Idempotency-Key)."
        ' Errors are {"error": {"code": "SETTLE-0x", "message": …}}.'
    ),
)


@api.exception_handler(SettleError)
def _settle_error(request: HttpRequest, exc: SettleError) -> HttpResponse:
    return api.error(request, exc.status, exc.message)


def output(value: Any) -> JsonResponse:
    # Sorted keys and no spaces, byte for byte what the original (Go's encoding/json) answered.
    return JsonResponse(
        {"output": value}, safe=False, json_dumps_params={"sort_keys": True, "separators": (",", ":")}
    )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a valid JSON number")


# Built once: json.loads with options builds a decoder per call.
EXACT_JSON = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def json_payload(request: HttpRequest) -> Any:
    """The body as JSON with numbers kept exact (Decimal, never float)."""
    try:
        raw = request.body or b"null"
    except RequestDataTooBig:
        raise InvalidInput("The body is too large; send smaller batches") from None
    try:
        # What json.loads does with bytes: UTF-8, -16 or -32, detected.
        return EXACT_JSON.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"The body is not valid JSON: {exc}") from None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is handled. A batch allocates thousands of
    short-lived, acyclic containers (freed by reference counting anyway) that otherwise trigger
    collections traversing the whole process: about a quarter of the CPU of an update."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _user(request: HttpRequest) -> str:
    return request.user.get_username()


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() in TRUE_VALUES


def idempotent(request: HttpRequest, respond: Callable[[], HttpResponse]) -> HttpResponse:
    """Answer with `respond()`, once per Idempotency-Key (project.idempotency): a malformed key is
    SETTLE-01, a key reused with another request SETTLE-02."""
    return idempotency.idempotent(
        request, respond, invalid=InvalidInput, reused=FunctionalError, stored_headers=STORED_HEADERS
    )


# --- OpenAPI details the schemas cannot carry ----------------------------------------------------
IDEMPOTENCY_KEY = idempotency.openapi_parameter("422 SETTLE-02")
# One example per aggregation type: the structure, a batch, and what GET answers after it.
TYPE_EXAMPLES = {
    "mcCounter": ("records carrying each field", ["1", "2", None], "2"),
    "1CDR": ("exact decimal sum", ["0.10", "0.25", None], "0.35"),
    "min": ("smallest number", ["0.10", "-2", "7"], "-2"),
    "max": ("largest number", ["0.10", "-2", "7"], "7"),
    "latest": ("value of the last record carrying the field", ["a", "b", None], "b"),
    "uniqueCount": ('number of distinct values (5, "5" and 5.0 are one)', ["a", "b", "a"], "2"),
}


def _body(schema: type[schemas.Schema], examples: dict | None = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema.model_json_schema()}
    if examples:
        media["examples"] = examples
    return {"requestBody": {"required": True, "content": {"application/json": media}}}


def _type_examples() -> dict[str, Any]:
    examples = {}
    for kind, (summary, values, result) in TYPE_EXAMPLES.items():
        records = [{"app": "A", "op": value} if value is not None else {"app": "A"} for value in values]
        examples[kind] = {
            "summary": f"{kind}: {summary}",
            "description": f"After an update with records {json.dumps(records)}, GET answers"
            f' `"aggregates": {{"A": {{"op": "{result}"}}}}`.',
            "value": {
                "settleid": f"example-{kind.lower()}",
                "aggregates": ["op"],
                "primaryKey": "app",
                "aggregationType": kind,
                "settlementType": "none",
                "record": {"app": "A", "op": values[0]},
            },
        }
    return examples


def _idempotent(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"parameters": [IDEMPOTENCY_KEY], **(extra or {})}


def route(method: str, path: str, **kwargs: Any) -> Callable:
    """Register an operation at `path` and, undocumented, at its other trailing-slash spelling."""
    register = getattr(api, method)
    other = path[:-1] if path.endswith("/") else path + "/"

    def decorator(view: Callable) -> Callable:
        register(other, include_in_schema=False, operation_id=f"{view.__name__}_alias", **kwargs)(view)
        return register(path, **kwargs)(view)

    return decorator


# --- operations -----------------------------------------------------------------------------------
@route("get", "/healthcheck", auth=None, response={200: schemas.Health, **api.errors(503)})
def healthcheck(request: HttpRequest) -> HttpResponse:
    """Whether the service and its database answer (public, no data)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except (OperationalError, InterfaceError):
        logger.exception("settlement healthcheck: database unavailable")
        return api.error(request, 503, "The settlement service is unavailable (database); retry later")
    return JsonResponse({"status": "ok"})


@route(
    "post",
    "/create/",
    response={200: schemas.SettlementOut, **api.errors(400, 409, 422)},
    openapi_extra=_idempotent(_body(schemas.StructureIn, _type_examples())),
)
def create(request: HttpRequest) -> HttpResponse:
    """Create a settlement structure."""

    def respond() -> JsonResponse:
        structure, entry = services.create_structure(payload=json_payload(request), user=_user(request))
        return output(structure_document(structure, entry=entry, aggregates={}))

    return idempotent(request, respond)


@route("get", "/{settleId}", response={200: schemas.SettlementOut, **api.errors(404)})
def detail(request: HttpRequest, settleId: str) -> HttpResponse:
    """The structure with its current aggregates."""
    return output(selectors.structure_state(settleid=settleId))


@route("get", "/{settleId}/history", response={200: schemas.HistoryOut, **api.errors(400, 404)})
def history(
    request: HttpRequest, settleId: str, limit: int | None = Query(None, le=BIGINT_MAX)
) -> HttpResponse:
    """Every operation with the full state after it, newest first; `limit` keeps the newest N."""
    if limit is not None and limit < 1:
        raise InvalidInput("'limit' must be a positive integer")
    return output(selectors.structure_history(settleid=settleId, limit=limit))


@route("get", "/{settleId}/settled", response={200: schemas.SettledOut, **api.errors(404)})
def settled(request: HttpRequest, settleId: str) -> HttpResponse:
    """Every settlement, newest first (the spec's sample shows one)."""
    return output(selectors.settled_entries(settleid=settleId))


@route("get", "/{settleId}/verify", response={200: schemas.VerificationOut, **api.errors(404)})
def verify(request: HttpRequest, settleId: str) -> HttpResponse:
    """Recompute the hash chain of the history and settlements: valid, links, head; or the first
    link that does not match."""
    return output(selectors.verify_chain(settleid=settleId))


@route(
    "post",
    "/{settleId}/update",
    response={200: schemas.SettlementOut, **api.errors(400, 404, 422)},
    openapi_extra=_idempotent(_body(schemas.UpdateIn)),
)
def update(request: HttpRequest, settleId: str, touched: bool = False) -> HttpResponse:
    """Aggregate a batch of records, all or nothing. Answers the structure with every key's
    aggregates, as the spec does; `touched=1` answers only the keys this batch touched, with what the
    batch contributed to each (count, sum, min, max, latest value, distinct values), so the reply does
    not grow with the structure."""

    def respond() -> HttpResponse:
        with collector_paused():
            payload = json_payload(request)
            result = services.update_structure(
                settleid=settleId, payload=payload, user=_user(request), full=not touched
            )
            if result.aggregates_json is not None:
                return _output_around(result)
            document = structure_document(result.structure, entry=result.entry, aggregates=result.aggregates)
            if result.structure.dedup_field:
                document["duplicates"] = result.duplicates
            return output(document)

    return idempotent(request, respond)


def _output_around(result: services.UpdateResult) -> HttpResponse:
    """output() of the update's document with its aggregates spliced in as the JSON text already
    written for the history, instead of serialising 1,000 keys a second time. "aggregates" sorts
    before every other key of the document, so the bytes are those output() would write."""
    document = structure_document(result.structure, entry=result.entry, aggregates={})
    rest = json.dumps(document, sort_keys=True, separators=(",", ":"))
    body = '{"output":{"aggregates":' + result.aggregates_json + "," + rest[1:] + "}"
    return HttpResponse(body, content_type="application/json")


SETTLEMENT_HASH = {
    "description": "Head of the structure's hash chain after this settle; keep it to detect later"
    " rewrites with /verify",
    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
}


@route(
    "post",
    "/{settleId}/settle",
    response={200: schemas.SettleOut, **api.errors(404, 409, 422)},
    openapi_extra=_idempotent({"responses": {"200": {"headers": {"Settlement-Hash": SETTLEMENT_HASH}}}}),
)
def settle(request: HttpRequest, settleId: str) -> HttpResponse:
    """Settle: answer and store the aggregates (1CDR: one consolidated record per key), then start a
    new round; 409 when there is nothing to settle."""

    def respond() -> JsonResponse:
        settlement, head = services.settle_structure(settleid=settleId, user=_user(request))
        response = output(settlement.aggregates)
        response["Settlement-Hash"] = head
        return response

    return idempotent(request, respond)


@route(
    "post",
    "/{settleId}/clear",
    response={200: schemas.SettlementOut, **api.errors(404, 422)},
    openapi_extra=_idempotent(),
)
def clear(request: HttpRequest, settleId: str) -> HttpResponse:
    """Drop the aggregates without settling them."""

    def respond() -> JsonResponse:
        structure, entry = services.clear_structure(settleid=settleId, user=_user(request))
        return output(structure_document(structure, entry=entry, aggregates={}))

    return idempotent(request, respond)


def not_found(request: HttpRequest) -> HttpResponse:
    """Anything else under /settlement answers in the API's own envelope, not Django's HTML 404."""
    return api.error(request, 404, f"No Settle API endpoint at {request.path}")
