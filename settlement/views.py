"""The Settle JSON API: thin views over services and selectors, in the spec's envelopes."""

import gc
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from project.api import api_view, openapi_view
from settlement import selectors, services
from settlement.documents import structure_document
from settlement.errors import InvalidInput, SettleError, code_for_status
from settlement.openapi import openapi_document

logger = logging.getLogger(__name__)
TRUE_VALUES = {"1", "true", "yes"}


def settle_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code_for_status(status), "message": message}}, status=status)


def output(value: Any) -> JsonResponse:
    # Sorted keys, like the original service's JSON.
    return JsonResponse({"output": value}, safe=False, json_dumps_params={"sort_keys": True})


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


@settle_api("POST")
def create(request: HttpRequest) -> JsonResponse:
    structure, entry = services.create_structure(payload=json_payload(request), user=_user(request))
    return output(structure_document(structure, entry=entry, aggregates={}))


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


@settle_api("POST")
def update(request: HttpRequest, settle_id: str) -> JsonResponse:
    """Aggregates a batch. The answer holds only the keys the batch touched, so it does not grow
    with the structure; `?full=1` returns every key, as the spec's sample does."""
    with collector_paused():
        payload = json_payload(request)
        result = services.update_structure(settleid=settle_id, payload=payload, user=_user(request))
        aggregates = result.touched
        if request.GET.get("full", "").lower() in TRUE_VALUES:
            aggregates = selectors.current_aggregates(result.structure)
        return output(structure_document(result.structure, entry=result.entry, aggregates=aggregates))


@settle_api("POST")
def settle(request: HttpRequest, settle_id: str) -> JsonResponse:
    settlement = services.settle_structure(settleid=settle_id, user=_user(request))
    return output(settlement.aggregates)


@settle_api("POST")
def clear(request: HttpRequest, settle_id: str) -> JsonResponse:
    structure, entry = services.clear_structure(settleid=settle_id, user=_user(request))
    return output(structure_document(structure, entry=entry, aggregates={}))


openapi = openapi_view(openapi_document, error=settle_error)


def not_found(request: HttpRequest) -> JsonResponse:
    return settle_error(404, f"No Settle API endpoint at {request.path}")
