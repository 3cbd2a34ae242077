"""The hash chain that makes a structure's history and settlements tamper-evident.

Every history entry and settlement stores hash = SHA-256(previous hash ‖ canonical JSON of the entry),
the first one chained to the empty string. Canonical JSON: sorted keys, no spaces, ASCII escapes,
timestamps as ISO 8601 in UTC with microseconds as stored, decimals as the strings stored. The chain
proves that no stored entry was edited, removed or inserted after the fact *relative to a head hash
someone kept*; whoever can rewrite every later entry and the head can forge a consistent chain, which
is why heads are handed out (the `Settlement-Hash` header) and logged at every settle.
"""

import hashlib
import json
from datetime import datetime
from typing import Any


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def moment(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


# Stands for the lastSettlement value of an update whose row lock is taken by the database itself
# (see services.APPEND_UPDATE); JSON text never holds a raw NUL, so it cannot occur otherwise.
LAST_SETTLEMENT_PLACEHOLDER = "\x00"


def link(previous: str, canonical: str) -> str:
    return hashlib.sha256((previous + canonical).encode()).hexdigest()


def history_canonical(
    *,
    settleid: str,
    operation: str,
    user: str,
    at: datetime,
    last_settlement_at: datetime | None,
    resets: bool,
    records: int,
    duplicates: int,
    delta_json: str,
    key_records_json: str,
) -> str:
    """The canonical JSON of a history entry; the delta and key records come already serialised
    (by `dumps`), so an update of 1,000 records serialises its delta once, for storing and hashing.
    Without `last_settlement_at` the text holds LAST_SETTLEMENT_PLACEHOLDER in its place."""
    parts = {
        "at": dumps(moment(at)),
        "delta": delta_json,
        "duplicates": dumps(duplicates),
        "keyRecords": key_records_json,
        "kind": '"history"',
        "lastSettlement": (
            LAST_SETTLEMENT_PLACEHOLDER if last_settlement_at is None else dumps(moment(last_settlement_at))
        ),
        "operation": dumps(operation),
        "records": dumps(records),
        "resets": dumps(resets),
        "settleid": dumps(settleid),
        "user": dumps(user),
    }
    return "{" + ",".join(f'"{name}":{text}' for name, text in parts.items()) + "}"


def settlement_canonical(
    *, settleid: str, settled_at: datetime, settled_by: str, settlement_type: str, aggregates: Any, keys: int
) -> str:
    return dumps(
        {
            "aggregates": aggregates,
            "keys": keys,
            "kind": "settlement",
            "settledAt": moment(settled_at),
            "settledBy": settled_by,
            "settleid": settleid,
            "settlementType": settlement_type,
        }
    )
