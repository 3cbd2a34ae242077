"""A test-only URL map: the project's URLs plus two tiny APIs built on project.api, one with the
default error body and one with an app-specific body (as settlement has)."""

from django.db import OperationalError
from django.urls import path
from ninja import Field, Schema

from project.api import build_api
from project.errors import Conflict, InvalidInput, NotFound, Unavailable
from project.urls import handler400, handler404  # noqa: F401 (the project's, JSON under an API)
from project.urls import urlpatterns as project_urlpatterns

api = build_api("example", title="Example API", scope="settlement", urls_namespace="example")


class ItemIn(Schema):
    name: str
    quantity: int = Field(gt=0)


class ItemOut(Schema):
    name: str
    quantity: int
    owner: str


@api.get(
    "/items/{name}",
    response={200: ItemOut, **api.errors(404)},
    openapi_extra={"responses": {"200": {"description": "The item"}}},
)
def item(request, name: str):
    if name != "one":
        raise NotFound(f"No item {name!r}", code="item_not_found")
    return {"name": name, "quantity": 1, "owner": request.user.get_username()}


@api.post("/items", response={200: ItemOut, **api.errors(409)})
def create_item(request, payload: ItemIn):
    """The name picks the failure, so one operation shows each domain error."""
    if payload.name == "taken":
        raise Conflict("Item 'taken' exists", code="item_exists")
    if payload.name == "bad":
        raise InvalidInput(
            "Two problems",
            problems=[{"loc": ["name"], "msg": "reserved"}, {"loc": ["quantity"], "msg": "odd"}],
        )
    if payload.name == "down":
        raise Unavailable("The warehouse does not answer")
    if payload.name == "database":
        raise OperationalError("server closed the connection unexpectedly")
    return {**payload.dict(), "owner": request.user.get_username()}


class SettleStyleError(Schema):
    error: dict[str, str]


def settle_style_body(status, code, message, problems):
    return {"error": {"code": {400: "X-01", 503: "X-00"}.get(status, "X-02"), "message": message}}


own_body_api = build_api(
    "example-own-body",
    title="Example API with its own error body",
    scope="settlement",
    urls_namespace="example-own-body",
    error_body=settle_style_body,
    error_schema=SettleStyleError,
)


@own_body_api.post("/items")
def create_item_again(request, payload: ItemIn):
    raise Conflict("Item exists")


urlpatterns = [path("example/", api.urls), path("example-own-body/", own_body_api.urls), *project_urlpatterns]
