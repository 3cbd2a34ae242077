"""The JSON documents of the Settle API, shaped like the spec's samples."""

from datetime import datetime
from typing import Any

from settlement.models import HistoryEntry, Structure

Aggregates = dict[str, dict[str, str]]


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def structure_document(
    structure: Structure, *, entry: HistoryEntry, aggregates: Aggregates
) -> dict[str, Any]:
    """The settlement object after `entry`; `aggregates` is left out when empty, as in the spec."""
    document: dict[str, Any] = {
        "aggregationMetrics": list(structure.aggregation_metrics),
        "aggregationType": structure.aggregation_type,
        "lastSettlement": unix(entry.last_settlement_at),
        "lastUpdate": {"operation": entry.operation, "timestamp": unix(entry.at), "user": entry.user},
        "primaryKey": structure.primary_key,
        "settleid": structure.settleid,
        "settlementType": structure.settlement_type,
    }
    if structure.dedup_field:
        document["dedupField"] = structure.dedup_field
    if aggregates:
        document["aggregates"] = aggregates
    return document


def settled_document(aggregates: Any, settled_at: datetime) -> dict[str, Any]:
    return {"aggregates": aggregates, "timestamp": unix(settled_at)}


def settled_rows(entry: dict[str, Any], *, primary_key: str) -> list[tuple[int, str, str, Any]]:
    """A settled entry flattened to (timestamp, key, field, value) rows, for CSV exports."""
    aggregates = entry["aggregates"]
    if isinstance(aggregates, dict):
        pairs = [(key, fields) for key, fields in sorted(aggregates.items())]
    else:
        pairs = [
            (record[primary_key], {k: v for k, v in record.items() if k != primary_key})
            for record in aggregates
        ]
    return [
        (entry["timestamp"], key, name, value)
        for key, fields in pairs
        for name, value in sorted(fields.items())
    ]
