"""The Settle API's schemas, declared once: they generate the OpenAPI document.

Bodies are validated by the pure parsers in settlement.records, not by these models: the parsers read
JSON numbers as exact decimals, accept the spec's string form of `aggregates`, name the failing
record's index, and parse a 1,000-record batch in about half the time pydantic takes to validate it
(README, Performance). The models describe the same shapes for the document and its clients.
"""

from typing import Any, Literal

from ninja import Field, Schema

from settlement.models import AggregationType, SettlementType

AggregationTypeName = Literal["mcCounter", "1CDR", "min", "max", "latest", "uniqueCount"]
SettlementTypeName = Literal["none", "1CDR"]
assert set(AggregationTypeName.__args__) == set(AggregationType.values)
assert set(SettlementTypeName.__args__) == set(SettlementType.values)

Aggregates = dict[str, dict[str, str]]


class StructureIn(Schema):
    settleid: str = Field(description="Unique; no '/' or spaces; not create, healthcheck or openapi.json")
    aggregates: list[str] | str = Field(description="Field names, or the spec's string form \"['op']\"")
    primaryKey: str
    aggregationType: AggregationTypeName = Field(
        description="mcCounter: records carrying the field; 1CDR: exact decimal sum; min/max: smallest/"
        "largest number; latest: value of the last record carrying it (record order, then batch"
        " order); uniqueCount: number of distinct values. Values are answered as strings."
    )
    settlementType: SettlementTypeName
    record: dict[str, Any] = Field(
        description="Sample record holding the primary key, aggregates, dedupField"
    )
    dedupField: str | None = Field(
        None,
        description="A record field (e.g. an event id): a record whose value was already seen since the"
        " last settle or clear is skipped and counted in the update's `duplicates`",
    )


class UpdateIn(Schema):
    record: list[dict[str, Any]] | dict[str, Any] = Field(description="One record or a list of records")


class LastUpdate(Schema):
    operation: Literal["Create", "Update", "Settle", "Clear"]
    timestamp: int = Field(description="Unix seconds")
    user: str = Field(description="The authenticated username")


class SettlementObject(Schema):
    aggregates: Aggregates | None = Field(
        None, description="{key: {field: value}}; left out when there are none, as in the spec"
    )
    aggregationMetrics: list[str]
    aggregationType: AggregationTypeName
    lastSettlement: int = Field(description="Unix seconds")
    lastUpdate: LastUpdate
    primaryKey: str
    settleid: str
    settlementType: SettlementTypeName
    dedupField: str | None = Field(None, description="Only on structures created with one")
    duplicates: int | None = Field(
        None, description="update of a structure with a dedupField: records skipped"
    )


class SettlementOut(Schema):
    output: SettlementObject


class HistoryOut(Schema):
    output: list[SettlementObject] = Field(
        description="Every operation with the state after it, newest first"
    )


Settled = Aggregates | list[dict[str, Any]]


class SettleOut(Schema):
    output: Settled = Field(description="none: the aggregates; 1CDR: one consolidated record per key")


class SettledEntry(Schema):
    aggregates: Settled
    timestamp: int = Field(description="Unix seconds")


class SettledOut(Schema):
    output: list[SettledEntry] = Field(description="Every settlement, newest first")


class InvalidLink(Schema):
    kind: Literal["history", "settlement", "head"]
    id: int | None = None
    seq: int | None = None
    problem: str


class Verification(Schema):
    valid: bool
    entries: int = Field(description="Links verified")
    head: str = Field(description="Hash of the last verified link")
    firstInvalid: InvalidLink | None = None


class VerificationOut(Schema):
    output: Verification


class Health(Schema):
    status: Literal["ok"]


class SettleErrorDetail(Schema):
    code: Literal["SETTLE-00", "SETTLE-01", "SETTLE-02"]
    message: str


class SettleError(Schema):
    """SETTLE-01: unparseable or invalid input (400); SETTLE-00: service down (503); SETTLE-02: every
    other refusal (401, 403, 404, 405, 409, 422)."""

    error: SettleErrorDetail
