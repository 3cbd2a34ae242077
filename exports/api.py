"""JSON API of the exports app (django-ninja on project.api): /api/exports/sync, /export, /files,
/webhook/ (Moneybird's calls, verified by their webhook token instead of our auth) and the generated
OpenAPI document /api/exports/openapi.json.

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
from datetime import datetime
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Body, Field, Query, Schema, Status
from pydantic import StrictBool, StrictInt, StrictStr

from exports import files, selectors, services, webhooks
from exports.moneybird import (
    MoneybirdAuthError,
    MoneybirdClient,
    MoneybirdConfigError,
    MoneybirdError,
    client_from_settings,
)
from exports.sync import sync_documents
from project import storage
from project.api import SAFE_METHODS, bearer_token, build_api
from project.errors import Forbidden, InvalidInput, NotFound
from project.tokens import user_for_token

api = build_api(
    "exports",
    title="Exports API (Moneybird)",
    scope="exports",
    urls_namespace="exports:api",
    description=(
        "Moneybird purchase invoices and receipts: sync, the summary list, xlsx export files and the "
        'public files area. Errors: `{"error": {"code", "message", "problems"}}`.'
    ),
)


# --- schemas ----------------------------------------------------------------------------------------
class Mutation(Schema):
    fieldName: str
    detail: str | None = None
    oldValue: str | None = None
    newValue: str | None = None


class SummaryEntry(Schema):
    """One entry of incoming-summary-list.json (`fileName`, `deletedAt` and `detail` only when set)."""

    id: str
    type: str
    createDate: str | None
    invoiceDate: str | None
    status: str = Field(description='Moneybird state, or "deleted" once gone from Moneybird')
    deletedAt: str | None = None
    fileName: str | None = None
    allFiles: list[str]
    mutations: list[Mutation]


class Summary(Schema):
    list: list[SummaryEntry]
    syncDate: str | None = Field(description="End of the last successful full sync (UTC)")


class ExportIn(Schema):
    ids: list[StrictStr | StrictInt] = Field(min_length=1, description="Moneybird document ids")
    ext: StrictStr | None = Field(None, description="Extension added to the file name")
    noLog: StrictBool | None = Field(False, description="true: the export is not logged")
    corrections: StrictBool | None = Field(
        False, description="true: earlier exported rows of each document reversed, then its current rows"
    )


class FilenameIn(Schema):
    filename: StrictStr


# DELETE takes `filename` in its JSON body (as the original) or in the query string.
OptionalFilename = Annotated[FilenameIn | None, Body()]
ListOrName = Annotated[str | None, Query(description="Omit to list the files")]


class FileIn(Schema):
    filename: StrictStr
    data: Any = Field(description="Text (a JSON value is stored serialised), or base64 with encoding")
    encoding: StrictStr | None = Field(None, description='"base64" for binary data')


class FileStored(Schema):
    filename: str
    key: str


class FileDeleted(Schema):
    deleted: str


class FileInfo(Schema):
    name: str
    size: int
    modified: datetime


class FileList(Schema):
    files: list[FileInfo]


class WebhookCall(Schema):
    """Moneybird's webhook body (other fields, e.g. `entity`, are accepted and ignored)."""

    administration_id: StrictStr | StrictInt | None = None
    webhook_id: StrictStr | StrictInt | None = None
    webhook_token: StrictStr | None = None
    entity_type: StrictStr | None = None
    entity_id: StrictStr | StrictInt | None = None
    action: StrictStr | None = None


class Queued(Schema):
    queued: list[str] = Field(description="Document ids whose sync is queued (after the debounce)")


# --- Moneybird token and errors --------------------------------------------------------------------
def moneybird_token(request: HttpRequest) -> str | None:
    """The Moneybird token of this request, or None to use MONEYBIRD_TOKEN (rule in the module doc)."""
    raw = bearer_token(request)
    ours = raw is not None and user_for_token(raw, scope="exports", write=request.method not in SAFE_METHODS)
    if raw is not None and not ours:
        token = raw
    else:
        header = request.headers.get("X-Moneybird-Token", "").strip()
        scheme, _, value = header.partition(" ")
        token = (value.strip() if scheme.lower() == "bearer" else header) or None
    # http.client cannot send anything else in a header: refuse it here instead of failing with a 500.
    if token is not None and not (token.isascii() and token.isprintable()):
        raise InvalidInput(
            "The Moneybird token may only hold printable ASCII characters", code="invalid_token"
        )
    return token


def request_client(request: HttpRequest) -> MoneybirdClient:
    try:
        return client_from_settings(moneybird_token(request))
    except MoneybirdConfigError as exc:
        raise MoneybirdConfigError(f"{exc} API callers may send it in X-Moneybird-Token.") from None


@api.exception_handler(MoneybirdError)
def moneybird_error(request: HttpRequest, exc: MoneybirdError) -> HttpResponse:
    """Moneybird's failures are not ours: 400 without a token, 401 when it refused the token, 502
    when it failed (the project's default for Unavailable is 503)."""
    status = (
        400 if isinstance(exc, MoneybirdConfigError) else 401 if isinstance(exc, MoneybirdAuthError) else 502
    )
    return api.error(request, status, exc.message, code=exc.code, problems=exc.problems)


MONEYBIRD_ERRORS = api.errors(401, 409, 502)


# --- operations -------------------------------------------------------------------------------------
@api.get("/sync", response={200: list[SummaryEntry], **MONEYBIRD_ERRORS}, exclude_unset=True)
def sync(request: HttpRequest):
    """Sync with Moneybird (only new, changed and deleted documents are fetched); answers the updated
    summary list. Codes: `moneybird_not_configured` (400), `moneybird_token_refused` (401),
    `sync_running` (409), `moneybird_unavailable` (502), `storage_unavailable` (503)."""
    sync_documents(client=request_client(request))
    return selectors.summary_list()


@api.get("/export", response=Summary, exclude_unset=True)
def summary(request: HttpRequest):
    """The summary list and the time of the last successful sync."""
    return {"list": selectors.summary_list(), "syncDate": selectors.sync_date()}


@api.post("/export", response={200: list[SummaryEntry], **MONEYBIRD_ERRORS}, exclude_unset=True)
def create_export(request: HttpRequest, payload: ExportIn, response: HttpResponse):
    """Make an export file of `ids` from Moneybird's current records (its name in `X-Export-File`);
    answers the updated summary list. Codes: `invalid_ids`, `invalid_ext`, `unknown_documents`,
    `draft_documents` (problems name each id), `rows_unknown` (400)."""
    ids = services.clean_ids(payload.ids)  # before any Moneybird call: bad input costs nothing
    created = services.create_export(
        client=request_client(request),
        ids=ids,
        ext=payload.ext,
        no_log=payload.noLog,
        corrections=payload.corrections,
        user=request.user,
    )
    response["X-Export-File"] = created.name
    return selectors.summary_list()


@api.delete("/export", response={200: list[SummaryEntry], **api.errors(404)}, exclude_unset=True)
def delete_export(request: HttpRequest, filename: str | None = None, payload: OptionalFilename = None):
    """Delete an export file (`filename` in the body or the query): its documents can be exported
    again. Codes: `invalid_filename` (400), `export_not_found` (404)."""
    services.delete_export(filename=payload.filename if payload else filename)
    return selectors.summary_list()


@api.get(
    "/files",
    response={200: FileList, **api.errors(404)},
    openapi_extra={
        "responses": {
            200: {
                "description": "The file (with ?filename=), else the list of files",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def read_file(request: HttpRequest, filename: ListOrName = None):
    """A public file (an xlsx as an attachment), or without `filename` the list of files (name, size,
    modified). Codes: `invalid_filename` (400), `file_not_found` (404)."""
    if filename is None:
        return {"files": files.listing()}
    key = files.storage_key(filename)
    try:
        content = storage.read(key)
    except storage.Missing:
        raise NotFound(f"No file named {filename!r}", code="file_not_found") from None
    name = posixpath.basename(key)
    return FileResponse(
        io.BytesIO(content),
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        as_attachment=name.endswith(".xlsx"),
        filename=name,
    )


def _staff_only(request: HttpRequest) -> None:
    if not (request.user.is_staff or request.user.is_superuser):
        raise Forbidden("Only staff may write or delete public files", code="staff_only")


@api.post("/files", response={201: FileStored})
def store_file(request: HttpRequest, payload: FileIn):
    """Staff only, unsafe: write a public file (may overwrite official files)."""
    _staff_only(request)
    key = services.store_public_file(filename=payload.filename, content=_file_content(payload))
    return Status(201, {"filename": payload.filename, "key": key})


@api.delete("/files", response={200: FileDeleted, **api.errors(404)})
def delete_file(request: HttpRequest, filename: str | None = None, payload: OptionalFilename = None):
    """Staff only, unsafe: delete a public file (`filename` in the body or the query)."""
    _staff_only(request)
    name = payload.filename if payload else filename
    services.delete_public_file(filename=name)
    return {"deleted": name}


def _file_content(payload: FileIn) -> bytes:
    """`data` as text (a JSON value is serialised), or base64 when `encoding` is "base64"."""
    if payload.encoding == "base64":
        try:
            return base64.b64decode(str(payload.data), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("data is not valid base64", code="invalid_data") from None
    data = payload.data
    try:
        return (data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)).encode()
    except UnicodeEncodeError:
        raise InvalidInput(
            "data is not text UTF-8 can encode (a lone surrogate?)", code="invalid_data"
        ) from None


@api.post(
    "/webhook/",
    auth=None,
    response={200: Queued, **api.errors(403)},
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": WebhookCall.model_json_schema()}}}
    },
)
def webhook(request: HttpRequest):
    """Moneybird's webhook calls, trusted by their `webhook_token` (compared with the token Moneybird
    gave when the webhook was registered); the named document's sync is queued. The body is read
    here, not by a schema: whatever does not carry a registered webhook's token, JSON or not, is
    refused alike. Codes: `webhook_token_invalid` (403)."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        body = {}
    return {"queued": webhooks.receive(body if isinstance(body, dict) else {})}
