"""What the Royalties API's routers share: documented refusals, created answers, Idempotency-Key."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Query, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination

from project import idempotency
from project.api import Error
from project.errors import Conflict
from statements.royalties.schemas import NO_NUL


class Pages(LimitOffsetPagination):
    """`?limit=&offset=` → `{"items", "count"}`, bounded: ninja leaves both open, and an offset past
    PostgreSQL's bigint was a 500 (found by Schemathesis)."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=2**63 - 1)


def search_query(what: str) -> Any:
    """A `search` query parameter; PostgreSQL text holds no NUL, so one is refused (400, not a 500)."""
    return Query("", max_length=200, pattern=NO_NUL, description=what)


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
