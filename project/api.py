"""The JSON APIs' shared layer (django-ninja): authentication, one error mapping, offline docs.

An app declares its API once with `build_api(...)`, hangs its operations on it (schemas in,
schemas out) and mounts `api.urls` in its urls.py; see README "JSON APIs". A request is
authenticated by `Authorization: Bearer <token>` (no CSRF: browsers never send the token on their
own) or by the Django session (CSRF enforced on unsafe methods, as for forms, and the back-office
group required). Services raise `project.errors` domain errors; `ApiErrors` turns them, and every
refusal of the framework itself (validation, authentication, method, database outage), into the
API's one error body: "unauthenticated" when no credentials came, "invalid_token" for a bearer
token that is unknown, revoked or expired, and a JSON "not_found" for any unknown path under an
API's mount point; any request Django itself refuses (a bad Host header, a malformed body) is a
JSON 400 there (`api_error_for_path`, called by the project's 404 and 400 handlers).
"""

import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse
from django.views.decorators.http import require_safe
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.openapi.views import openapi_view as ninja_docs_view
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf

from project.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unavailable
from project.roles import BACK_OFFICE, user_in_group
from project.tokens import user_for_token

logger = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class InvalidToken(AuthenticationError):
    """A bearer token was sent, but it is unknown, revoked or expired (and no session holds)."""


class ApiAuth(HttpBearer):
    """Bearer token valid for `scope` (reads on GET/HEAD/OPTIONS, writes otherwise), or a logged-in
    session of the back-office group with a CSRF token on unsafe methods. Documented as bearer."""

    # Read by ninja's Swagger page: it then sends the page's CSRF token, so a logged-in user can
    # try the operations out.
    csrf = True

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def __call__(self, request: HttpRequest) -> AbstractBaseUser | None:
        write = request.method not in SAFE_METHODS
        raw = bearer_token(request)
        user = None if raw is None else self.authenticate(request, raw)
        if user is None:
            user = self._session_user(request, write=write)
        if user is None and raw is not None:
            # A client that sent a token must learn that the token is the problem, not that it
            # forgot one (the exports API lets a session send Moneybird's token the same way).
            raise InvalidToken()
        if user is not None:
            request.user = user  # views read request.user, whichever way the caller signed in
        return user

    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser | None:
        """The token's user; None for an unknown, revoked or expired token (then the session may
        still hold); `Forbidden` for a token used outside its scope."""
        return user_for_token(token, scope=self.scope, write=request.method not in SAFE_METHODS)

    @staticmethod
    def _session_user(request: HttpRequest, *, write: bool) -> AbstractBaseUser | None:
        user = getattr(request, "user", None)
        if user is None or not (user.is_authenticated and user.is_active):
            return None
        if write and check_csrf(request) is not None:
            raise Forbidden(
                "CSRF check failed: send the csrftoken cookie's value as X-CSRFToken", code="csrf_failed"
            )
        # Tokens are issued deliberately by an admin, so a token is itself the grant; a browser
        # session needs the back-office group (operators log in too).
        if not user_in_group(user, BACK_OFFICE):
            raise Forbidden("You do not have permission to use this API")
        return user


# The status of each domain error, most specific class first (looked up along the MRO).
DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 400,
    Forbidden: 403,
    Unavailable: 503,
    DomainError: 400,
}
# The code of a refusal that carries none of its own (framework errors), by status.
STATUS_CODE = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "throttled",
    503: "unavailable",
}


class Problem(Schema):
    loc: list[str | int] = []
    msg: str


class ErrorDetail(Schema):
    code: str
    message: str
    problems: list[Problem] = []


class Error(Schema):
    """The default error body: `{"error": {"code", "message", "problems"}}`."""

    error: ErrorDetail


ErrorBody = Callable[[int, str, str, list[dict[str, Any]]], Any]


def default_error_body(status: int, code: str, message: str, problems: list[dict[str, Any]]) -> dict:
    return {"error": {"code": code, "message": message, "problems": problems}}


def validation_problems(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """ninja's validation errors as problems: where (`loc`, e.g. ["body", "rates", 0, "rate"])
    and what (`msg`); pydantic's context objects are left out (not JSON, not needed)."""
    return [
        {"loc": [part if isinstance(part, int) else str(part) for part in e["loc"]], "msg": e["msg"]}
        for e in errors
    ]


class Api(NinjaAPI):
    """A NinjaAPI answering every refusal in one error body (`error_body`, documented by
    `error_schema`) and serving its 405s and its OpenAPI document's method checks the same way."""

    def __init__(self, *, error_body: ErrorBody, error_schema: type[Schema], **kwargs: Any):
        self.error_body = error_body
        self.error_schema = error_schema
        super().__init__(**kwargs)

    def set_default_exception_handlers(self) -> None:
        super().set_default_exception_handlers()  # keeps ninja's: other exceptions are bugs (500)
        self.add_exception_handler(DomainError, self._domain_error)
        self.add_exception_handler(ValidationError, self._validation_error)
        self.add_exception_handler(HttpError, self._http_error)
        self.add_exception_handler(Http404, self._not_found)
        self.add_exception_handler(OperationalError, self._database_down)
        self.add_exception_handler(InterfaceError, self._database_down)

    def error(
        self, request: HttpRequest, status: int, message: str, *, code: str = "", problems: list | None = None
    ) -> HttpResponse:
        body = self.error_body(status, code or STATUS_CODE.get(status, "error"), message, problems or [])
        response = self.create_response(request, body, status=status)
        if status == 401:
            # RFC 6750 section 3: the challenge names a refused token's error.
            response["WWW-Authenticate"] = (
                'Bearer error="invalid_token"' if code == "invalid_token" else "Bearer"
            )
        return response

    def errors(self, *statuses: int) -> dict[int, type[Schema]]:
        """`response=` entries documenting these error statuses, e.g. `{200: Out, **api.errors(404, 409)}`."""
        return dict.fromkeys(statuses, self.error_schema)

    def _domain_error(self, request: HttpRequest, exc: DomainError) -> HttpResponse:
        status = next(DOMAIN_STATUS[cls] for cls in type(exc).__mro__ if cls in DOMAIN_STATUS)
        return self.error(request, status, exc.message, code=exc.code, problems=exc.problems)

    def _validation_error(self, request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = validation_problems(exc.errors)
        where = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems[:3])
        return self.error(request, 400, f"Invalid request ({where})", problems=problems)

    def _http_error(self, request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, InvalidToken):
            return self.error(request, 401, "Invalid or expired token", code="invalid_token")
        if isinstance(exc, AuthenticationError):
            return self.error(request, 401, "Authentication required: send 'Authorization: Bearer <token>'")
        message = exc.message
        if exc.__cause__ is not None:  # e.g. "Cannot parse request body" and the JSON parser's reason
            message = f"{message}: {type(exc.__cause__).__name__}: {str(exc.__cause__)[:200]}"
        return self.error(request, exc.status_code, message)

    def _not_found(self, request: HttpRequest, exc: Http404) -> HttpResponse:
        return self.error(request, 404, str(exc) or "Not found")

    def _database_down(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("%s: database unavailable", self.title)
        return self.error(request, 503, "The service is unavailable (database); retry later")

    def method_not_allowed(self, request: HttpRequest, allowed: Iterable[str]) -> HttpResponse:
        response = self.error(request, 405, f"Method {request.method} not allowed")
        response["Allow"] = ", ".join(sorted(allowed))
        return response

    def _get_urls(self) -> list[URLPattern | URLResolver]:
        patterns = [p for p in super()._get_urls() if p.name != "api-root"]  # see get_root_path
        for pattern in patterns:
            only = ("GET", "HEAD") if pattern.name == "openapi-json" else None
            pattern.callback = self._answering(pattern.callback, only=only)
        return patterns

    def get_root_path(self, path_params: dict[str, Any]) -> str:
        """Where the API is mounted, found from its document's URL: ninja's own root URL would be
        one more (non-)endpoint answering 404 at e.g. /api/."""
        document = reverse(f"{self.urls_namespace}:openapi-json", kwargs=path_params)
        return document.removesuffix(self.openapi_url.lstrip("/"))

    def _answering(self, view: Callable, *, only: tuple[str, ...] | None) -> Callable:
        """`view` with ninja's plain-text 405 in the API's error body, and (for the OpenAPI
        document) methods other than `only` refused the same way."""

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if only and request.method not in only:
                return self.method_not_allowed(request, only)
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseNotAllowed):
                return self.method_not_allowed(request, response["Allow"].split(", "))
            return response

        wrapper.csrf_exempt = True  # ApiAuth checks CSRF for sessions; the document is public
        return wrapper

    def get_openapi_schema(self, **kwargs: Any) -> dict:
        """ninja's document, with the refusals any operation can answer documented on each."""
        schema = super().get_openapi_schema(**kwargs)
        name = self.error_schema.__name__
        body = self.error_schema.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(body.pop("$defs", {}))
        components[name] = body
        common = {
            400: "Invalid request",
            401: "Not authenticated",
            403: "Not allowed",
            503: "Unavailable; retry later",
        }
        reference = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                # ninja keys statuses by int, `openapi_extra` by string: one key each, or the JSON
                # would carry "200" twice (Swagger UI refuses such a document).
                responses: dict[str, dict] = {}
                for status, response in operation["responses"].items():
                    responses.setdefault(str(status), {}).update(response)
                for status, description in common.items():
                    responses.setdefault(str(status), {"description": description, **reference})
                operation["responses"] = responses
        return schema


class SiteSwagger(Swagger):
    """ninja's Swagger UI page inside the site's layout (header, navigation, language)."""

    template = "api/docs.html"


# name → API, for the docs pages; filled by build_api as the apps' urls.py import their APIs.
APIS: dict[str, Api] = {}


def build_api(
    name: str,
    *,
    title: str,
    scope: str,
    urls_namespace: str,
    openapi_url: str = "/openapi.json",
    error_body: ErrorBody = default_error_body,
    error_schema: type[Schema] = Error,
    **kwargs: Any,
) -> Api:
    """The NinjaAPI of one app. `scope` is the API-token scope its operations need; `urls_namespace`
    is the full namespace `api.urls` is included under (e.g. "statements:api" inside an app's
    urls.py with `app_name = "statements"`); `openapi_url` is relative to where it is mounted.
    Other keyword arguments go to NinjaAPI (e.g. `renderer`, `parser`, `description`)."""
    api = Api(
        title=title,
        urls_namespace=urls_namespace,
        openapi_url=openapi_url,
        docs_url=None,  # served by docs() below, under /api/docs/
        # No validator badge: Swagger UI would fetch it from validator.swagger.io.
        docs=SiteSwagger(settings={"validatorUrl": None}),
        auth=ApiAuth(scope),
        error_body=error_body,
        error_schema=error_schema,
        **kwargs,
    )
    APIS[name] = api
    return api


def api_error_for_path(request: HttpRequest, status: int, message: str) -> HttpResponse | None:
    """The error (404, 400) of a path under an API's mount point (e.g. /api/…, /settlement/…) in
    that API's error body, the most specific mount winning; None for a path outside every API
    (a page's error)."""
    mounts = []
    for api in APIS.values():
        try:
            mounts.append((api.get_root_path({}), api))
        except NoReverseMatch:  # registered, but not mounted in this URL map
            continue
    matching = [(root, api) for root, api in mounts if request.path.startswith(root)]
    if not matching:
        return None
    _, api = max(matching, key=lambda mount: len(mount[0]))
    return api.error(request, status, message)


@require_safe
def docs_index(request: HttpRequest) -> HttpResponse:
    """/api/docs/: one link per API to its interactive docs and its OpenAPI document."""
    apis = [
        (name, api, api.get_root_path({}) + api.openapi_url.lstrip("/")) for name, api in sorted(APIS.items())
    ]
    return render(request, "api/docs_index.html", {"apis": apis})


@require_safe
def docs(request: HttpRequest, name: str) -> HttpResponse:
    """One API's Swagger UI, from ninja's bundled assets (no CDN: "ninja" is an installed app)."""
    api = APIS.get(name)
    if api is None:
        raise Http404(f"No API named {name!r}")
    return ninja_docs_view(request, api)
