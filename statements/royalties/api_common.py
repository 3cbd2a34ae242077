"""What the Royalties API's routers share: documented refusals, created answers, Idempotency-Key."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Schema
from ninja.errors import HttpError

from project import idempotency
from project.api import Error
from project.errors import Conflict


def errors(*statuses: int) -> dict[int, type[Schema]]:
    """`response=` entries for these refusals (400, 401, 403 and 503 are on every operation)."""
    return dict.fromkeys(statuses, Error)


def answer(schema: type[Schema], obj: Any, status: int = 200) -> JsonResponse:
    """`obj` through its answer schema, as ninja would render it."""
    return JsonResponse(schema.from_orm(obj).model_dump(mode="json"), status=status)


def once(request: HttpRequest, respond: Callable[[], HttpResponse]) -> HttpResponse:
    """`respond()` applied once per Idempotency-Key (project.idempotency): a malformed key is 400,
    the key reused with another request 409 `idempotency_key_reused`."""
    return idempotency.idempotent(
        request,
        respond,
        invalid=lambda message: HttpError(400, message),
        reused=lambda message: Conflict(message, code="idempotency_key_reused"),
    )


IDEMPOTENT = {"parameters": [idempotency.openapi_parameter("409 `idempotency_key_reused`")]}
