"""JSON API of the exports app: /api/exports/sync, /api/exports/export, /api/exports/files and
/api/exports/webhook/ (Moneybird's webhook calls, verified by their token, not by our auth).

Which Moneybird token a call uses: a request authenticated by OUR API token (Authorization: Bearer
<our token>) sends the Moneybird token in `X-Moneybird-Token`; a browser session may send it as
`Authorization: Bearer <moneybird token>` (as the original API did) or in `X-Moneybird-Token`.
Without either, MONEYBIRD_TOKEN from the settings is used.
"""

import base64
import binascii
import io
import json
import mimetypes
import posixpath
from collections.abc import Callable
from functools import wraps

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from exports import files, selectors, services, webhooks
from exports.moneybird import MoneybirdAuthError, MoneybirdClient, MoneybirdConfigError, client_from_settings
from exports.sync import sync_documents
from project import storage
from project.api import BadRequest, api_view, authenticate, bearer_token, json_body, json_error
from project.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unavailable


def moneybird_token(request: HttpRequest) -> str | None:
    """The Moneybird token of this request, or None to use MONEYBIRD_TOKEN (rule in the module doc)."""
    _, via_token = authenticate(request)
    if not via_token and bearer_token(request):
        token = bearer_token(request)
    else:
        header = request.headers.get("X-Moneybird-Token", "").strip()
        scheme, _, value = header.partition(" ")
        token = (value.strip() if scheme.lower() == "bearer" else header) or None
    # http.client cannot send anything else in a header: refuse it here instead of failing with a 500.
    if token is not None and not (token.isascii() and token.isprintable()):
        raise BadRequest("The Moneybird token may only hold printable ASCII characters")
    return token


def request_client(request: HttpRequest) -> MoneybirdClient:
    try:
        return client_from_settings(moneybird_token(request))
    except MoneybirdConfigError as exc:
        raise MoneybirdConfigError(f"{exc} API callers may send it in X-Moneybird-Token.") from None


STATUSES = [
    (MoneybirdConfigError, 400),
    (MoneybirdAuthError, 401),
    (storage.Unavailable, 503),
    (Unavailable, 502),
    (InvalidInput, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
]


def answers_errors(view: Callable) -> Callable:
    """Domain errors (Moneybird, storage, input, lookups) become JSON errors, never a 500."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            status = next(status for kind, status in STATUSES if isinstance(exc, kind))
            return json_error(status, str(exc))

    return wrapper


def _body(request: HttpRequest) -> dict:
    body = json_body(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("Body must be a JSON object")
    return body


def _filename(request: HttpRequest) -> object:
    """`filename` from the JSON body, else from the query string."""
    return _body(request).get("filename") or request.GET.get("filename")


def _summary() -> JsonResponse:
    return JsonResponse(selectors.summary_list(), safe=False)


@api_view(["GET"])
@answers_errors
def sync(request: HttpRequest) -> HttpResponse:
    """Sync with Moneybird; answers the updated summary list."""
    sync_documents(client=request_client(request))
    return _summary()


@api_view(["GET", "POST", "DELETE"])
@answers_errors
def export(request: HttpRequest) -> HttpResponse:
    """GET {list, syncDate}; POST {ids, ext, noLog} makes an export; DELETE {filename} removes one."""
    if request.method == "GET":
        return JsonResponse({"list": selectors.summary_list(), "syncDate": selectors.sync_date()})
    if request.method == "POST":
        body = _body(request)
        ids = services.clean_ids(body.get("ids"))  # before any Moneybird call: bad input costs nothing
        created = services.create_export(
            client=request_client(request),
            ids=ids,
            ext=body.get("ext"),
            no_log=body.get("noLog", False),
            corrections=body.get("corrections", False),
            user=request.user,
        )
        response = _summary()
        response["X-Export-File"] = created.name
        return response
    services.delete_export(filename=_filename(request))
    return _summary()


@api_view(["GET", "POST", "DELETE"])
@answers_errors
def public_files(request: HttpRequest) -> HttpResponse:
    """GET ?filename= reads a public file; POST {filename, data} and DELETE {filename} are staff only."""
    if request.method == "GET":
        if "filename" not in request.GET:
            return JsonResponse({"files": files.listing()})
        key = files.storage_key(request.GET.get("filename"))
        try:
            content = storage.read(key)
        except storage.Missing:
            raise NotFound(f"No file named {request.GET.get('filename')!r}", code="file_not_found") from None
        name = posixpath.basename(key)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(
            io.BytesIO(content),
            content_type=content_type,
            as_attachment=name.endswith(".xlsx"),
            filename=name,
        )
    if not (request.user.is_staff or request.user.is_superuser):
        return json_error(403, "Only staff may write or delete public files")
    if request.method == "POST":
        body = _body(request)
        key = services.store_public_file(filename=body.get("filename"), content=_file_content(body))
        return JsonResponse({"filename": body["filename"], "key": key}, status=201)
    filename = _filename(request)
    services.delete_public_file(filename=filename)
    return JsonResponse({"deleted": filename})


def _file_content(body: dict) -> bytes:
    """`data` as text (a JSON value is serialised), or base64 when `encoding` is "base64"."""
    if "data" not in body:
        raise BadRequest("data is required")
    data = body["data"]
    if body.get("encoding") == "base64":
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("data is not valid base64") from None
    try:
        return (data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)).encode()
    except UnicodeEncodeError:
        raise BadRequest("data is not text UTF-8 can encode (a lone surrogate?)") from None


@csrf_exempt
@answers_errors
def webhook(request: HttpRequest) -> HttpResponse:
    """Moneybird's webhook calls: {"queued": [ids]} (a sync of them follows after the debounce)."""
    if request.method != "POST":
        response = json_error(405, f"Method {request.method} not allowed")
        response["Allow"] = "POST"
        return response
    try:
        payload = json_body(request)
    except BadRequest as exc:
        raise InvalidInput(str(exc), code="invalid_webhook") from None
    return JsonResponse({"queued": webhooks.receive(payload)})
