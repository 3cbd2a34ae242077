"""The OpenAPI 3 document of the Settle API, written by hand from the spec and the issue's contract."""

from typing import Any

from settlement.models import AggregationType, SettlementType

SETTLE_ID = {"name": "settleId", "in": "path", "required": True, "schema": {"type": "string"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, schema: dict) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": ["output"], "properties": {"output": schema}}
            }
        },
    }


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "SETTLE-01: unparseable or invalid input",
        401: "SETTLE-02: authentication required",
        403: "SETTLE-02: not allowed (session without the back-office group, or CSRF)",
        404: "SETTLE-02: unknown settleId",
        405: "SETTLE-02: method not allowed",
        409: "SETTLE-02: the settleId already exists",
        422: "SETTLE-02: functional error (e.g. a total beyond the stored precision)",
        503: "SETTLE-00: service down (database unavailable)",
    }
    return {
        str(status): {
            "description": reasons[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status in (401, 403, 405, 503, *statuses)
    }


def _operation(
    summary: str, ok: dict, *, statuses: tuple = (404,), body: dict | None = None, **extra
) -> dict:
    operation: dict[str, Any] = {"summary": summary, "responses": {"200": ok, **_errors(*statuses)}, **extra}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


def openapi_document(server_url: str) -> dict[str, Any]:
    """The document; `server_url` is the site root the request came to."""
    aggregates = {
        "type": "object",
        "description": "{primaryKeyValue: {field: value}}; values are strings (counts or exact sums).",
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
    }
    settlement_object = {
        "type": "object",
        "required": [
            "aggregationMetrics",
            "aggregationType",
            "lastSettlement",
            "lastUpdate",
            "primaryKey",
            "settleid",
            "settlementType",
        ],
        "properties": {
            "aggregates": {
                **aggregates,
                "description": "Omitted when there are no aggregates (as in the spec).",
            },
            "aggregationMetrics": {"type": "array", "items": {"type": "string"}},
            "aggregationType": {"type": "string", "enum": AggregationType.values},
            "lastSettlement": {"type": "integer", "description": "Unix seconds"},
            "lastUpdate": {
                "type": "object",
                "properties": {
                    "operation": {"type": "string", "enum": ["Create", "Update", "Settle", "Clear"]},
                    "timestamp": {"type": "integer", "description": "Unix seconds"},
                    "user": {"type": "string", "description": "The authenticated username"},
                },
            },
            "primaryKey": {"type": "string"},
            "settleid": {"type": "string"},
            "settlementType": {"type": "string", "enum": SettlementType.values},
        },
    }
    structure_input = {
        "type": "object",
        "required": ["settleid", "aggregates", "primaryKey", "aggregationType", "settlementType", "record"],
        "properties": {
            "settleid": {"type": "string", "description": "Unique; no '/' or spaces"},
            "aggregates": {
                "oneOf": [
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    {"type": "string", "description": "The spec's string form, e.g. \"['op']\""},
                ]
            },
            "primaryKey": {"type": "string"},
            "aggregationType": {"type": "string", "enum": AggregationType.values},
            "settlementType": {"type": "string", "enum": SettlementType.values},
            "record": {
                "type": "object",
                "description": "Sample record holding the primary key and every aggregate",
            },
        },
    }
    record = {"type": "object", "additionalProperties": True}
    settled_entry = {
        "type": "object",
        "properties": {
            "aggregates": {
                "description": "none: the aggregates; 1CDR: one consolidated record per key",
                "oneOf": [aggregates, {"type": "array", "items": record}],
            },
            "timestamp": {"type": "integer", "description": "Unix seconds"},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Settle API",
            "version": "1.0.0",
            "description": "Settlement structures: aggregate records per primary key (mcCounter counts the"
            " records carrying each field, 1CDR sums them exactly), settle, clear, history. Errors are"
            ' {"error": {"code": "SETTLE-0x", "message": …}}.',
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/settlement/create/": {
                "post": _operation(
                    "Create a settlement structure",
                    _ok("The new structure", _ref("SettlementObject")),
                    statuses=(400, 409),
                    body=_ref("StructureInput"),
                )
            },
            "/settlement/{settleId}": {
                "parameters": [SETTLE_ID],
                "get": _operation(
                    "Current state with its aggregates", _ok("The structure", _ref("SettlementObject"))
                ),
            },
            "/settlement/{settleId}/history": {
                "parameters": [
                    SETTLE_ID,
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1},
                        "description": "Only the newest N entries (default: all, as in the spec)",
                    },
                ],
                "get": _operation(
                    "Every operation with the full state after it, newest first",
                    _ok("History", {"type": "array", "items": _ref("SettlementObject")}),
                    statuses=(400, 404),
                ),
            },
            "/settlement/{settleId}/settled": {
                "parameters": [SETTLE_ID],
                "get": _operation(
                    "All settled entries, newest first",
                    _ok("Settled entries", {"type": "array", "items": _ref("SettledEntry")}),
                ),
            },
            "/settlement/{settleId}/update": {
                "parameters": [
                    SETTLE_ID,
                    {
                        "name": "full",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["0", "1"]},
                        "description": "1: answer with every key's aggregates instead of only the keys the batch touched",
                    },
                ],
                "post": _operation(
                    "Aggregate a batch of records (atomically: all or nothing)",
                    _ok(
                        "The structure; aggregates of the touched keys (all with full=1)",
                        _ref("SettlementObject"),
                    ),
                    statuses=(400, 404, 422),
                    body={
                        "type": "object",
                        "required": ["record"],
                        "properties": {
                            "record": {"oneOf": [record, {"type": "array", "items": record, "minItems": 1}]}
                        },
                    },
                ),
            },
            "/settlement/{settleId}/settle": {
                "parameters": [SETTLE_ID],
                "post": _operation(
                    "Settle: return and store the aggregates, then clear them",
                    _ok(
                        "none: the aggregates; 1CDR: consolidated records",
                        settled_entry["properties"]["aggregates"],
                    ),
                ),
            },
            "/settlement/{settleId}/clear": {
                "parameters": [SETTLE_ID],
                "post": _operation(
                    "Clear the aggregates without settling", _ok("The structure", _ref("SettlementObject"))
                ),
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "schemas": {
                "StructureInput": structure_input,
                "SettlementObject": settlement_object,
                "SettledEntry": settled_entry,
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "enum": ["SETTLE-00", "SETTLE-01", "SETTLE-02"]},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
        },
    }
