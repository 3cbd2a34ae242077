"""The Settle JSON API: thin views over services and selectors, in the spec's envelopes."""

import gc
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from project.api import api_view, openapi_view
from settlement import selectors, services
from settlement.documents import structure_document
from settlement.errors import InvalidInput, SettleError, code_for_status
from settlement.openapi import openapi_document
from settlement.records import clean_text

logger = logging.getLogger(__name__)
TRUE_VALUES = {"1", "true", "yes"}
IDEMPOTENCY_KEY_MAX_LENGTH = 255
# Headers of a reply that belong to its stored copy (replayed with it).
STORED_HEADERS = ("Settlement-Hash",)


def settle_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code_for_status(status), "message": message}}, status=status)


def output(value: Any) -> JsonResponse:
    # Sorted keys and no spaces, byte for byte what the original (Go's encoding/json) answered.
    return JsonResponse(
        {"output": value}, safe=False, json_dumps_params={"sort_keys": True, "separators": (",", ":")}
    )


def settle_api(*methods: str) -> Callable:
    """api_view with the SETTLE error envelope; a database outage answers SETTLE-00 / 503."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def answering(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                return view(request, *args, **kwargs)
            except SettleError as exc:
                return settle_error(exc.status, exc.message)

        guarded = api_view(methods, error=settle_error)(answering)

        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                return guarded(request, *args, **kwargs)
            except (OperationalError, InterfaceError):
                logger.exception("settlement: database unavailable")
                return settle_error(503, "The settlement service is unavailable (database); retry later")

        return wrapper

    return decorator


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
    """Answer with `respond()`, once per Idempotency-Key: a retry with the same key and the same
    request replays the stored reply (`Idempotent-Replayed: true`) without applying anything."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return respond()
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not clean_text(key):
        raise InvalidInput(f"'Idempotency-Key' must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters")
    # The trailing slash is optional on every path, so it does not make another request.
    target = f"{request.method} {request.path.rstrip('/')}?{request.META.get('QUERY_STRING', '')}\n"
    fingerprint = hashlib.sha256(target.encode() + request.body).hexdigest()

    def apply() -> services.Reply:
        response = respond()
        headers = {name: response[name] for name in STORED_HEADERS if name in response}
        return services.Reply(response.status_code, response.content.decode(), headers)

    reply, replayed = services.run_idempotently(
        username=_user(request), key=key, fingerprint=fingerprint, apply=apply
    )
    response = HttpResponse(reply.body, status=reply.status, content_type="application/json")
    for name, value in reply.headers.items():
        response[name] = value
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@settle_api("POST")
def create(request: HttpRequest) -> HttpResponse:
    def respond() -> JsonResponse:
        structure, entry = services.create_structure(payload=json_payload(request), user=_user(request))
        return output(structure_document(structure, entry=entry, aggregates={}))

    return idempotent(request, respond)


@settle_api("GET")
def detail(request: HttpRequest, settle_id: str) -> JsonResponse:
    return output(selectors.structure_state(settleid=settle_id))


@settle_api("GET")
def history(request: HttpRequest, settle_id: str) -> JsonResponse:
    """Every entry, as the spec has it; `?limit=N` keeps the newest N (each holds every key)."""
    limit = request.GET.get("limit")
    if limit is not None and not (limit.isdigit() and int(limit) > 0):
        raise InvalidInput("'limit' must be a positive integer")
    return output(selectors.structure_history(settleid=settle_id, limit=int(limit) if limit else None))


@settle_api("GET")
def settled(request: HttpRequest, settle_id: str) -> JsonResponse:
    return output(selectors.settled_entries(settleid=settle_id))


@settle_api("GET")
def verify(request: HttpRequest, settle_id: str) -> JsonResponse:
    return output(selectors.verify_chain(settleid=settle_id))


@settle_api("POST")
def update(request: HttpRequest, settle_id: str) -> HttpResponse:
    """Aggregates a batch and answers the whole structure with every key's aggregates, as the spec
    does; `?touched=1` answers only the keys the batch touched, with what the batch contributed to
    them, so the reply does not grow with the structure."""
    touched = _flag(request, "touched")

    def respond() -> JsonResponse:
        with collector_paused():
            payload = json_payload(request)
            result = services.update_structure(
                settleid=settle_id, payload=payload, user=_user(request), full=not touched
            )
            if result.aggregates_json and result.aggregates:
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


@settle_api("POST")
def settle(request: HttpRequest, settle_id: str) -> HttpResponse:
    def respond() -> JsonResponse:
        settlement, head = services.settle_structure(settleid=settle_id, user=_user(request))
        response = output(settlement.aggregates)
        response["Settlement-Hash"] = head
        return response

    return idempotent(request, respond)


@settle_api("POST")
def clear(request: HttpRequest, settle_id: str) -> HttpResponse:
    def respond() -> JsonResponse:
        structure, entry = services.clear_structure(settleid=settle_id, user=_user(request))
        return output(structure_document(structure, entry=entry, aggregates={}))

    return idempotent(request, respond)


def healthcheck(request: HttpRequest) -> JsonResponse:
    """Public and data-free: 200 while the database answers, SETTLE-00 / 503 otherwise."""
    if request.method not in ("GET", "HEAD"):
        response = settle_error(405, f"Method {request.method} not allowed")
        response["Allow"] = "GET, HEAD"
        return response
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except (OperationalError, InterfaceError):
        logger.exception("settlement healthcheck: database unavailable")
        return settle_error(503, "The settlement service is unavailable (database); retry later")
    return JsonResponse({"status": "ok"})


openapi = openapi_view(openapi_document, error=settle_error)


def not_found(request: HttpRequest) -> JsonResponse:
    return settle_error(404, f"No Settle API endpoint at {request.path}")
