"""The OpenAPI 3 document of the exports JSON API, written by hand from exports/api.py."""

from typing import Any

from project.api import openapi_view

ERROR = {"$ref": "#/components/schemas/Error"}
SUMMARY = {"$ref": "#/components/schemas/SummaryList"}
REASONS = {
    400: "Invalid input, or Moneybird not configured (the message says what to fix)",
    401: "Authentication required, or Moneybird refused its token",
    403: "Not allowed (a session without the back-office group, CSRF, or not staff for writes)",
    404: "No such file",
    405: "Method not allowed",
    409: "Another Moneybird sync is running",
    502: "Moneybird failed or answered nonsense",
    503: "Storage unavailable",
}
MONEYBIRD_TOKEN = {
    "name": "X-Moneybird-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The Moneybird token to use (default: MONEYBIRD_TOKEN of the settings)",
}
FILENAME_QUERY = {
    "name": "filename",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "A file of the public exports area (letters, digits, spaces and . _ - ( ) only)",
}
FILENAME_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"filename": {"type": "string"}},
            "description": "`filename` here or in the query string",
        }
    }
}


def _json(schema: dict, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str, ok: dict[str, dict], errors: tuple[int, ...], *, body: dict | None = None, **extra: Any
) -> dict[str, Any]:
    """An operation with the statuses every api_view answers (401, 403, 405) besides `errors`."""
    statuses = sorted({*errors, 401, 403, 405})
    responses = {**ok, **{str(status): _json(ERROR, REASONS[status]) for status in statuses}}
    operation: dict[str, Any] = {"summary": summary, "responses": responses, **extra}
    if body is not None:
        operation["requestBody"] = {"required": False, "content": body}
    return operation


def openapi_document(server_url: str) -> dict[str, Any]:
    """The document; `server_url` is the site root the request came to."""
    summary_ok = {"200": _json(SUMMARY, "The updated incoming-summary-list.json")}
    nullable_string = {"type": "string", "nullable": True}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Exports API",
            "version": "1.0.0",
            "description": "Moneybird purchase invoices and receipts: sync, export to xlsx, and the public"
            ' files area. Errors are {"error": message}.',
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{"bearerAuth": []}, {"session": []}],
        "paths": {
            "/api/exports/sync": {
                "get": _operation(
                    "Sync with Moneybird",
                    summary_ok,
                    (400, 409, 502, 503),
                    parameters=[MONEYBIRD_TOKEN],
                )
            },
            "/api/exports/export": {
                "get": _operation(
                    "The summary list and when it was last synced",
                    {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["list", "syncDate"],
                                "properties": {
                                    "list": SUMMARY,
                                    "syncDate": {**nullable_string, "format": "date-time"},
                                },
                            },
                            "Summary",
                        )
                    },
                    (503,),
                ),
                "post": _operation(
                    "Export documents to a new xlsx (its name in the X-Export-File header)",
                    {
                        "200": {
                            **_json(SUMMARY, "The updated summary list"),
                            "headers": {"X-Export-File": {"schema": {"type": "string"}}},
                        }
                    },
                    (400, 409, 502, 503),
                    parameters=[MONEYBIRD_TOKEN],
                    body={
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["ids"],
                                "properties": {
                                    "ids": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {
                                            "oneOf": [
                                                {"type": "string", "minLength": 1, "maxLength": 32},
                                                {"type": "integer"},
                                            ]
                                        },
                                    },
                                    "ext": {
                                        "type": "string",
                                        "pattern": r"^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,49}$",
                                    },
                                    "noLog": {"type": "boolean", "nullable": True},
                                },
                            }
                        }
                    },
                ),
                "delete": _operation(
                    "Delete an export file",
                    summary_ok,
                    (400, 404, 503),
                    parameters=[FILENAME_QUERY],
                    body=FILENAME_BODY,
                ),
            },
            "/api/exports/files": {
                "get": _operation(
                    "Read a file of the public exports area",
                    {
                        "200": {
                            "description": "The file (an .xlsx as an attachment)",
                            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                        }
                    },
                    (400, 404, 503),
                    parameters=[{**FILENAME_QUERY, "required": True}],
                ),
                "post": _operation(
                    "Write a file of the public exports area (staff only)",
                    {
                        "201": _json(
                            {
                                "type": "object",
                                "required": ["filename", "key"],
                                "properties": {"filename": {"type": "string"}, "key": {"type": "string"}},
                            },
                            "Written",
                        )
                    },
                    (400, 503),
                    body={
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["filename", "data"],
                                "properties": {
                                    "filename": {"type": "string"},
                                    "data": {"description": "Text (a JSON value is serialised) or base64"},
                                    "encoding": {"type": "string", "enum": ["base64"]},
                                },
                            }
                        }
                    },
                ),
                "delete": _operation(
                    "Delete a file of the public exports area (staff only)",
                    {
                        "200": _json(
                            {"type": "object", "required": ["deleted"], "properties": {"deleted": {}}},
                            "Deleted",
                        )
                    },
                    (400, 404, 503),
                    parameters=[FILENAME_QUERY],
                    body=FILENAME_BODY,
                ),
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "schemas": {
                "SummaryList": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "type", "createDate", "status", "allFiles", "mutations"],
                        "properties": {
                            "id": {"type": "string"},
                            "type": {"type": "string"},
                            "createDate": {**nullable_string, "format": "date-time"},
                            "invoiceDate": {**nullable_string, "format": "date"},
                            "status": {"type": "string"},
                            "fileName": {"type": "string"},
                            "allFiles": {"type": "array", "items": {"type": "string"}},
                            "mutations": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["fieldName"],
                                    "properties": {
                                        "fieldName": {"type": "string"},
                                        "oldValue": nullable_string,
                                        "newValue": nullable_string,
                                    },
                                },
                            },
                        },
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
            },
        },
    }


openapi = openapi_view(openapi_document)
