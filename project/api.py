"""Small decorators shared by the JSON APIs: authentication, method checks, JSON bodies.

A request is authenticated by `Authorization: Bearer <token>` (no CSRF: the token is not sent by
browsers on their own) or by the Django session (CSRF enforced on unsafe methods, as for forms).
"""

import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from project.roles import BACK_OFFICE, user_in_group
from project.tokens import user_for_token

ErrorResponder = Callable[[int, str], HttpResponse]
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class BadRequest(ValueError):
    """Input the client can fix; becomes a 400 with its message."""


def json_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate(request: HttpRequest) -> tuple[AbstractBaseUser | None, bool]:
    """(user, via_token) for the request; user is None when neither a token nor a session holds."""
    raw = bearer_token(request)
    if raw is not None:
        user = user_for_token(raw)
        if user is not None:
            return user, True
    if request.user.is_authenticated and request.user.is_active:
        return request.user, False
    return None, False


def can_use_back_office_api(user: AbstractBaseUser, via_token: bool) -> bool:
    """Tokens are issued deliberately by an admin, so a token is itself the grant; a browser
    session needs the back-office group (operators may log in too)."""
    return via_token or user_in_group(user, BACK_OFFICE)


def api_view(
    methods: Iterable[str],
    *,
    permission: Callable[[AbstractBaseUser, bool], bool] = can_use_back_office_api,
    error: ErrorResponder = json_error,
) -> Callable:
    """Guard a JSON view: allowed methods, authentication, CSRF for sessions, permission."""
    allowed = {m.upper() for m in methods}

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = error(405, f"Method {request.method} not allowed")
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            user, via_token = authenticate(request)
            if user is None:
                response = error(401, "Authentication required: send 'Authorization: Bearer <token>'")
                response["WWW-Authenticate"] = "Bearer"
                return response
            if not via_token and request.method not in SAFE_METHODS:
                rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
                if rejected is not None:
                    return error(403, "CSRF check failed")
            if not permission(user, via_token):
                return error(403, "You do not have permission to use this API")
            request.user = user
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return error(400, str(exc))

        return wrapper

    return decorator


def json_body(request: HttpRequest) -> Any:
    """The request body parsed as JSON; BadRequest with the parser's reason otherwise."""
    try:
        return json.loads(request.body or b"null")
    except (ValueError, RecursionError) as exc:
        # ValueError covers decoding errors and Python's limit on integer digits; RecursionError
        # comes from absurdly deep nesting.
        raise BadRequest(f"Body is not valid JSON: {type(exc).__name__}: {str(exc)[:200]}") from None


def openapi_view(build_document: Callable[[str], dict], *, error: ErrorResponder = json_error) -> Callable:
    """A public view serving an OpenAPI document (it holds no data), built for the site root the
    request came to; other methods than GET/HEAD get the API's own 405."""

    def view(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = error(405, f"Method {request.method} not allowed")
            response["Allow"] = "GET, HEAD"
            return response
        document = build_document(request.build_absolute_uri("/"))
        return JsonResponse(document, json_dumps_params={"indent": 1})

    return view
