"""The OpenAPI 3 document of the Settle API, written by hand from the spec and the issue's contract."""

from typing import Any

from settlement.models import AggregationType, SettlementType

SETTLE_ID = {"name": "settleId", "in": "path", "required": True, "schema": {"type": "string"}}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Apply this request once: a retry with the same key and the same request replays the"
    " stored reply (status and body) with `Idempotent-Replayed: true`; the same key with another request"
    " is 422 SETTLE-02. Keys are per user and forgotten after SETTLEMENT_IDEMPOTENCY_HOURS (24).",
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored reply of an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
# One example per aggregation type: the structure, a batch, and what GET answers after it.
TYPE_EXAMPLES = {
    "mcCounter": ("records carrying each field", ["1", "2", None], {"op": "2"}),
    "1CDR": ("exact decimal sum", ["0.10", "0.25", None], {"op": "0.35"}),
    "min": ("smallest number", ["0.10", "-2", "7"], {"op": "-2"}),
    "max": ("largest number", ["0.10", "-2", "7"], {"op": "7"}),
    "latest": (
        "value of the last record carrying the field, in batch order then record order",
        ["a", "b", None],
        {"op": "b"},
    ),
    "uniqueCount": (
        'number of distinct values (numbers in canonical spelling: 5, "5" and 5.0 are one)',
        ["a", "b", "a"],
        {"op": "2"},
    ),
}


def _type_examples() -> dict[str, Any]:
    examples = {}
    for kind, (summary, values, result) in TYPE_EXAMPLES.items():
        records = [{"app": "A", "op": value} if value is not None else {"app": "A"} for value in values]
        examples[kind] = {
            "summary": f"{kind}: {summary}",
            "description": f"After updating with {records}, GET answers aggregates {{'A': {result}}}.",
            "value": {
                "settleid": f"example-{kind.lower()}",
                "aggregates": ["op"],
                "primaryKey": "app",
                "aggregationType": kind,
                "settlementType": "none",
                "record": {"app": "A", "op": values[0]},
            },
        }
    return examples


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
        409: "SETTLE-02: the settleId already exists (create) or there is nothing to settle (settle)",
        422: "SETTLE-02: functional error (an Idempotency-Key reused with a different request)",
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
    summary: str,
    ok: dict,
    *,
    statuses: tuple = (404,),
    body: dict | None = None,
    examples: dict | None = None,
    idempotent: bool = False,
    **extra,
) -> dict:
    operation: dict[str, Any] = {"summary": summary, "responses": {"200": ok, **_errors(*statuses)}, **extra}
    if body is not None:
        media: dict[str, Any] = {"schema": body}
        if examples:
            media["examples"] = examples
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    if idempotent:
        operation["parameters"] = [IDEMPOTENCY_KEY]
        ok["headers"] = {**ok.get("headers", {}), **REPLAYED}
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
            "dedupField": {"type": "string", "description": "Only on structures created with one"},
            "duplicates": {
                "type": "integer",
                "description": "update of a structure with a dedupField: records skipped as repeats",
            },
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
            "aggregationType": {
                "type": "string",
                "enum": AggregationType.values,
                "description": "mcCounter: records carrying the field; 1CDR: exact decimal sum; min/max:"
                " smallest/largest number; latest: value of the last record carrying it; uniqueCount:"
                " number of distinct values. Values are answered as strings.",
            },
            "settlementType": {"type": "string", "enum": SettlementType.values},
            "record": {
                "type": "object",
                "description": "Sample record holding the primary key, every aggregate and the dedupField",
            },
            "dedupField": {
                "type": "string",
                "description": "Optional record field (e.g. an event id): a record whose value was already"
                " seen since the last settle or clear is skipped and counted in the update's `duplicates`",
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
            " records carrying each field, 1CDR sums them exactly, min, max, latest, uniqueCount), settle,"
            " clear, history, a tamper-evident hash chain (verify), idempotent retries (Idempotency-Key)."
            ' Errors are {"error": {"code": "SETTLE-0x", "message": …}}.',
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/settlement/create/": {
                "post": _operation(
                    "Create a settlement structure",
                    _ok("The new structure", _ref("SettlementObject")),
                    statuses=(400, 409, 422),
                    body=_ref("StructureInput"),
                    examples=_type_examples(),
                    idempotent=True,
                )
            },
            "/settlement/healthcheck": {
                "get": {
                    "summary": "Whether the service and its database answer (public, no data)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The database answers",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["status"],
                                        "properties": {"status": {"type": "string", "enum": ["ok"]}},
                                    }
                                }
                            },
                        },
                        **{k: v for k, v in _errors().items() if k in ("405", "503")},
                    },
                }
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
                        "name": "touched",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["0", "1"]},
                        "description": "1: answer only the keys this batch touched, with what the batch"
                        " contributed to each (its count, sum, min, max, latest value or distinct values)"
                        " instead of every key's aggregates; the reply then does not grow with the structure",
                    },
                ],
                "post": _operation(
                    "Aggregate a batch of records (atomically: all or nothing)",
                    _ok(
                        "The structure with every key's aggregates, as in the spec (touched=1: the batch's"
                        " contribution to the keys it touched)",
                        _ref("SettlementObject"),
                    ),
                    statuses=(400, 404, 422),
                    idempotent=True,
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
                    {
                        **_ok(
                            "none: the aggregates; 1CDR: consolidated records",
                            settled_entry["properties"]["aggregates"],
                        ),
                        "headers": {
                            "Settlement-Hash": {
                                "description": "Head of the structure's hash chain after this settle;"
                                " keep it to detect later rewrites with /verify",
                                "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            }
                        },
                    },
                    statuses=(404, 409, 422),
                    idempotent=True,
                ),
            },
            "/settlement/{settleId}/clear": {
                "parameters": [SETTLE_ID],
                "post": _operation(
                    "Clear the aggregates without settling",
                    _ok("The structure", _ref("SettlementObject")),
                    statuses=(404, 422),
                    idempotent=True,
                ),
            },
            "/settlement/{settleId}/verify": {
                "parameters": [SETTLE_ID],
                "get": _operation(
                    "Recompute the hash chain of the history and settlements",
                    _ok(
                        "valid, the number of links and the head; or the first link that does not match",
                        {
                            "type": "object",
                            "required": ["valid", "entries", "head"],
                            "properties": {
                                "valid": {"type": "boolean"},
                                "entries": {"type": "integer", "description": "Links verified"},
                                "head": {"type": "string", "description": "Hash of the last verified link"},
                                "firstInvalid": {
                                    "type": "object",
                                    "description": "kind (history, settlement or head), id, seq, problem",
                                },
                            },
                        },
                    ),
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
