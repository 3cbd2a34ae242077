"""The OpenAPI 3 document of the statements JSON API, written by hand from statements/views.py."""

from typing import Any

from project.api import openapi_view
from statements.models import SalesFileStatus

ERROR = {"$ref": "#/components/schemas/Error"}
REASONS = {
    400: "Invalid input (the message says what to fix)",
    401: "Authentication required (or, for the webhook, a bad signature or a stale timestamp)",
    403: "Not allowed (a session without the back-office group, or CSRF)",
    404: "Unknown statement run or sales file",
    405: "Method not allowed",
    409: "Conflict with the current state (e.g. rates frozen by a report, file already processed)",
    413: "The file is larger than STATEMENTS_MAX_UPLOAD_BYTES",
    503: "Storage unavailable (or the webhook is not configured)",
}


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str,
    ok: dict[str, dict],
    errors: tuple[int, ...],
    *,
    body: dict | None = None,
    api: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """An operation; `api` adds the statuses every api_view answers (401, 403, 405)."""
    statuses = sorted({*errors, *((401, 403, 405) if api else ())})
    responses = {**ok, **{str(status): _json(ERROR, REASONS[status]) for status in statuses}}
    operation: dict[str, Any] = {"summary": summary, "responses": responses, **extra}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    return operation


def openapi_document(server_url: str) -> dict[str, Any]:
    """The document; `server_url` is the site root the request came to."""
    strings = {"type": "array", "items": {"type": "string", "minLength": 1}}
    period = {"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2024-07"}
    currency = {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217"}
    rate = {
        "type": "object",
        "required": ["currency", "period", "rate"],
        "properties": {"currency": currency, "period": period, "rate": {"type": "string"}},
    }
    rate_exception = {
        "type": "object",
        "required": ["currency", "rate"],
        "properties": {
            "currency": currency,
            "rate": {"type": "string"},
            "dsp": {"type": "string", "nullable": True},
            "salesfile": {"type": "integer", "nullable": True},
            "period": {**period, "nullable": True},
        },
    }
    rate_in = {"oneOf": [{"type": "string", "pattern": r"^\d{1,6}(\.\d{1,8})?$"}, {"type": "number"}]}

    def rate_body(item: dict) -> dict[str, Any]:
        """A JSON list (or an object holding it), a CSV file, or CSV text."""
        items = {"type": "array", "items": {**item, "properties": {**item["properties"], "rate": rate_in}}}
        return {
            "application/json": {
                "schema": {
                    "oneOf": [
                        items,
                        {
                            "type": "object",
                            "description": "The list under `rates`, `currencies`, `exceptions` or `items`",
                            "properties": {"rates": items},
                        },
                    ]
                }
            },
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
            "text/csv": {"schema": {"type": "string", "description": "currency,period,rate lines"}},
        }

    rate_set_ok = {
        "200": _json(
            {
                "type": "object",
                "required": ["status", "count"],
                "properties": {"status": {"type": "string", "enum": ["ok"]}, "count": {"type": "integer"}},
            },
            "The set replaced whole",
        )
    }
    sales_file_status = {"type": "string", "enum": SalesFileStatus.values}
    run_path = "/api/statement_run/{run_id}/"
    file_path = "/api/files/salesfiles/{file_id}/"
    paths = {
        "/api/statement_run/": {
            "post": _operation(
                "Create a statement run",
                {"201": _json({"type": "object", "properties": {"id": {"type": "integer"}}}, "Created")},
                (400,),
                body={"application/json": {"schema": _ref("RunInput")}},
            )
        },
        run_path: {
            "parameters": [_id("run_id")],
            "get": _operation(
                "A run with its files, rates and exceptions", {"200": _json(_ref("Run"), "The run")}, (404,)
            ),
        },
        f"{run_path}currencies/": {
            "parameters": [_id("run_id")],
            "post": _operation(
                "Replace the run's exchange rates (currency, period, rate)",
                rate_set_ok,
                (400, 404, 409),
                body=rate_body(rate),
            ),
        },
        f"{run_path}currencies_exception/": {
            "parameters": [_id("run_id")],
            "post": _operation(
                "Replace the run's rate exceptions (currency, rate, dsp?, salesfile?, period?)",
                rate_set_ok,
                (400, 404, 409),
                body=rate_body(rate_exception),
            ),
        },
        "/api/statement_run/{statement_id}/add-salesfile/": {
            "parameters": [
                _id("statement_id"),
                {
                    "name": "file_id",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer"},
                    "description": "The sales file, when the body does not name it",
                },
            ],
            "post": _operation(
                "Add a sales file to a run (idempotent)",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string", "enum": ["ok"]},
                                "statement_run": {"type": "integer"},
                                "file_id": {"type": "integer"},
                            },
                        },
                        "Added",
                    )
                },
                (400, 404),
                body={
                    "application/json": {
                        "schema": {"type": "object", "properties": {"file_id": {"type": "integer"}}}
                    },
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"file_id": {"type": "integer"}}}
                    },
                },
            ),
        },
        f"{run_path}report/": {
            "parameters": [
                _id("run_id"),
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["json", "csv", "xlsx"], "default": "json"},
                },
            ],
            "get": _operation(
                "The statement report (freezes the run's rate sets)",
                {
                    "200": {
                        "description": "The report",
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    }
                },
                (400, 404, 409),
            ),
        },
        "/api/files/salesfiles/": {
            "post": _operation(
                "Register a sales file (status INITIALIZED)",
                {"201": _json(_ref("SalesFileCreated"), "Registered")},
                (400,),
                body={
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
                        }
                    }
                },
            )
        },
        file_path: {
            "parameters": [_id("file_id")],
            "get": _operation(
                "A sales file with its progress", {"200": _json(_ref("SalesFile"), "The file")}, (404,)
            ),
        },
        f"{file_path}upload-url/": {
            "parameters": [_id("file_id")],
            "post": _operation(
                "Where to upload the content: a presigned S3 POST (form `fields`, then the file as "
                "`field`; S3 refuses bodies over `max_bytes`), or this API's content URL",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["id", "url", "method"],
                            "properties": {
                                "id": {"type": "integer"},
                                "url": {"type": "string"},
                                "method": {"type": "string", "enum": ["PUT", "POST"]},
                                "field": {"type": "string"},
                                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                                "max_bytes": {"type": "integer"},
                                "expires_in": {"type": "integer", "nullable": True},
                                "detail": {"type": "string"},
                            },
                        },
                        "The upload target",
                    )
                },
                (404, 409, 503),
            ),
        },
        f"{file_path}process/": {
            "parameters": [_id("file_id")],
            "post": _operation(
                "Start cleaning and importing the uploaded content",
                {"202": _json(_ref("SalesFileCreated"), "Processing started")},
                (404, 409, 503),
            ),
        },
        f"{file_path}content/": {
            "parameters": [_id("file_id")],
            "post": _operation(
                "Upload the content through the API (local storage, or small files)",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "status": sales_file_status,
                                "size": {"type": "integer"},
                            },
                        },
                        "Stored",
                    )
                },
                (400, 404, 409, 413, 503),
                body={
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            ),
        },
        f"{file_path}rejected/": {
            "parameters": [_id("file_id")],
            "get": _operation(
                "The rejected-lines report (CSV: line, reason)",
                {
                    "200": {
                        "description": "The report",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    }
                },
                (404, 503),
            ),
        },
        "/api/statements/webhook/": {
            "post": _operation(
                "Signed report of an external cleaning/import module on a sales file",
                {"200": _json(_ref("SalesFileCreated"), "Applied")},
                (400, 401, 404, 405, 409, 503),
                body={"application/json": {"schema": _ref("WebhookEvent")}},
                api=False,
                security=[{"signature": []}],
            )
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Statements API",
            "version": "1.0.0",
            "description": "Statement runs over sales files: register and upload sales files, add them to"
            ' a run, set exchange rates, get the report. Errors are {"error": message} (a rate set with'
            ' errors also lists "problems" with line numbers).',
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{"bearerAuth": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Signature",
                    "description": "sha256=<hex HMAC-SHA256 of the raw body with STATEMENTS_WEBHOOK_SECRET>",
                },
            },
            "schemas": {
                "RunInput": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "currency": {**currency, "description": "ISO 4217 (default EUR)"},
                        "artists": strings,
                        "dsps": strings,
                        "periods": {
                            "oneOf": [
                                {"type": "array", "items": period},
                                {"type": "object", "properties": {"from": period, "to": period}},
                            ]
                        },
                        "period_from": period,
                        "period_to": period,
                        "salesfiles": {"type": "array", "items": {"type": "integer"}},
                    },
                },
                "Run": {
                    "type": "object",
                    "required": ["id", "name", "currency", "status", "files", "rates", "currency_exceptions"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "currency": {"type": "string"},
                        "status": {"type": "string"},
                        "filters": {"type": "object"},
                        "files": {"type": "array", "items": _ref("SalesFile")},
                        "rates": {"type": "array", "items": rate},
                        "currency_exceptions": {"type": "array", "items": rate_exception},
                        "report_generated_at": {"type": "string", "format": "date-time", "nullable": True},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
                "SalesFileCreated": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {"id": {"type": "integer"}, "status": sales_file_status},
                },
                "SalesFile": {
                    "type": "object",
                    "required": ["id", "name", "status", "progress"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "status": sales_file_status,
                        "failure_reason": {"type": "string"},
                        "format": {"type": "string"},
                        "size": {"type": "integer", "nullable": True},
                        "lines_read": {"type": "integer"},
                        "lines_valid": {"type": "integer"},
                        "lines_rejected": {"type": "integer"},
                        "progress": {"type": "object"},
                        "rejected_report": {"type": "string", "nullable": True},
                        "created_at": {"type": "string", "format": "date-time"},
                        "status_changed_at": {"type": "string", "format": "date-time"},
                    },
                },
                "WebhookEvent": {
                    "type": "object",
                    "required": ["event_id", "timestamp", "file_id", "event"],
                    "properties": {
                        "event_id": {"type": "string", "minLength": 1, "maxLength": 200},
                        "timestamp": {
                            "oneOf": [{"type": "number"}, {"type": "string", "format": "date-time"}],
                            "description": "Within STATEMENTS_WEBHOOK_MAX_AGE of now",
                        },
                        "file_id": {"type": "integer"},
                        "event": {"type": "string", "enum": ["cleaned", "imported", "failed"]},
                        "reason": {"type": "string", "description": "Required for failed"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "problems": {"type": "array", "items": {"type": "string"}},
                        "files_not_processed": {"type": "array", "items": {}},
                        "missing_rates": {"type": "array", "items": {}},
                    },
                },
            },
        },
    }


openapi = openapi_view(openapi_document)
