"""Write operations of the settlement app: create, update (aggregate a batch), settle, clear.

Concurrency: `update` holds the structure row FOR SHARE while it upserts, `settle` and `clear` hold
it FOR UPDATE. Updates therefore run in parallel with each other but never overlap a settle, so every
record lands in exactly one settlement. Each batch is one transaction and one set-based upsert whose
rows are sorted, so concurrent batches lock rows in the same order and cannot deadlock.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from settlement.documents import Aggregates, group_by_key
from settlement.errors import DuplicateStructure, FunctionalError, InvalidInput, UnknownStructure
from settlement.models import (
    Aggregate,
    AggregateKey,
    AggregationType,
    HistoryEntry,
    Operation,
    Settlement,
    SettlementType,
    Structure,
)
from settlement.records import (
    EXACT,
    Batch,
    clean_text,
    parse_batch,
    parse_structure,
    storable,
)

MAX_BATCH_RECORDS = 100_000

UPSERT_AGGREGATES = """
INSERT INTO settlement_aggregate (structure_id, key, field, count, total)
SELECT %s, u.key, u.field, u.count, u.total
FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::numeric[]) WITH ORDINALITY AS u(key, field, count, total, n)
ORDER BY u.n
ON CONFLICT (structure_id, key, field) DO UPDATE
SET count = settlement_aggregate.count + EXCLUDED.count, total = settlement_aggregate.total + EXCLUDED.total
RETURNING key, field, count, total
"""
# mcCounter only counts: no totals to send, add or read back (a tenth of the upsert's time).
UPSERT_COUNTS = """
INSERT INTO settlement_aggregate (structure_id, key, field, count, total)
SELECT %s, u.key, u.field, u.count, 0
FROM unnest(%s::text[], %s::text[], %s::bigint[]) WITH ORDINALITY AS u(key, field, count, n)
ORDER BY u.n
ON CONFLICT (structure_id, key, field) DO UPDATE SET count = settlement_aggregate.count + EXCLUDED.count
RETURNING key, field, count, NULL
"""
UPSERT_KEYS = """
INSERT INTO settlement_aggregate_key (structure_id, key, records)
SELECT %s, u.key, u.records
FROM unnest(%s::text[], %s::bigint[]) WITH ORDINALITY AS u(key, records, n)
ORDER BY u.n
ON CONFLICT (structure_id, key) DO UPDATE SET records = settlement_aggregate_key.records + EXCLUDED.records
"""


@dataclass
class UpdateResult:
    structure: Structure
    entry: HistoryEntry
    touched: Aggregates


def _lock(settleid: str, *, exclusive: bool) -> Structure:
    """The structure row, locked until the end of the transaction (shared for updates)."""
    if not clean_text(settleid):
        raise UnknownStructure(settleid)
    if exclusive:
        structure = Structure.objects.select_for_update().filter(settleid=settleid).first()
    elif connection.vendor == "postgresql":
        rows = list(
            Structure.objects.raw(
                "SELECT * FROM settlement_structure WHERE settleid = %s FOR SHARE", [settleid]
            )
        )
        structure = rows[0] if rows else None
    else:
        # SQLite has no row locks: a no-op write takes the database write lock, so batches queue.
        Structure.objects.filter(settleid=settleid).update(settleid=F("settleid"))
        structure = Structure.objects.filter(settleid=settleid).first()
    if structure is None:
        raise UnknownStructure(settleid)
    return structure


def create_structure(*, payload: Any, user: str) -> tuple[Structure, HistoryEntry]:
    """Create a structure from a `create` body; its history starts with a Create entry."""
    spec, problems = parse_structure(payload)
    if spec is None:
        raise InvalidInput("; ".join(problems))
    now = timezone.now()
    try:
        with transaction.atomic():
            structure = Structure.objects.create(
                settleid=spec.settleid,
                aggregation_metrics=spec.aggregates,
                primary_key=spec.primary_key,
                aggregation_type=spec.aggregation_type,
                settlement_type=spec.settlement_type,
                sample_record=spec.record,
                created_at=now,
                created_by=user,
                last_settlement_at=now,
            )
            entry = _record(structure, Operation.CREATE, user, now, resets=True)
    except IntegrityError:
        raise DuplicateStructure(spec.settleid) from None
    return structure, entry


def _record(
    structure: Structure,
    operation: str,
    user: str,
    at: datetime,
    *,
    resets: bool,
    delta: Aggregates | None = None,
    records: int = 0,
) -> HistoryEntry:
    """Append a history entry; the state after it is folded from the entries on read."""
    return HistoryEntry.objects.create(
        structure=structure,
        operation=operation,
        user=user,
        at=at,
        last_settlement_at=structure.last_settlement_at,
        resets=resets,
        delta=delta,
        records=records,
    )


def update_structure(*, settleid: str, payload: Any, user: str) -> UpdateResult:
    """Aggregate a batch of records atomically; returns the new values of the keys it touched."""
    try:
        with transaction.atomic():
            # Parsing needs the structure's definition; holding the shared lock meanwhile only
            # delays a settle, never another update.
            structure = _lock(settleid, exclusive=False)
            batch, problems = parse_batch(
                payload,
                primary_key=structure.primary_key,
                aggregates=structure.aggregation_metrics,
                aggregation_type=structure.aggregation_type,
                max_records=MAX_BATCH_RECORDS,
            )
            if problems:
                raise InvalidInput("Nothing was applied: " + "; ".join(problems))
            touched, delta = _apply(structure, batch)
            entry = _record(
                structure,
                Operation.UPDATE,
                user,
                timezone.now(),
                resets=False,
                delta=delta,
                records=batch.records,
            )
    except (DataError, InvalidOperation):  # InvalidOperation: SQLite's float-backed NUMERIC
        raise FunctionalError(
            "Nothing was applied: a total would exceed the stored precision"
            " (28 integer digits, 12 decimal places)"
        ) from None
    return UpdateResult(structure, entry, touched)


def pg_array(values) -> str:
    """A PostgreSQL array literal. One literal per column parses far faster than psycopg2's
    ARRAY[...] constructor with one constant per element (measured: about a third of the upsert).
    Keys never hold NUL (refused by the parser), so NUL can separate them while escaping once."""
    joined = "\x00".join(map(str, values)).replace("\\", "\\\\").replace('"', '\\"')
    return '{"' + joined.replace("\x00", '","') + '"}'


def _rows(batch: Batch, ordered_keys: list[str]) -> list[tuple[str, str, int, Decimal]]:
    """(key, field, count, total) in (key, field) order, so that concurrent batches lock rows in one
    order."""
    zero = Decimal(0)
    tallies = batch.keys
    return [
        (key, name, tally.counts[name], tally.totals.get(name, zero))
        for key, tally in ((key, tallies[key]) for key in ordered_keys)
        for name in (sorted(tally.counts) if len(tally.counts) > 1 else tally.counts)
    ]


def _apply(structure: Structure, batch: Batch) -> tuple[Aggregates, Aggregates]:
    """Upsert the batch; (new values of the touched aggregates, what the batch added to them)."""
    # Sorting the distinct keys (strings) is cheaper than sorting the row tuples.
    ordered_keys = sorted(batch.keys)
    rows = _rows(batch, ordered_keys)
    track_records = structure.settlement_type == SettlementType.ONE_CDR
    keys = [(key, batch.keys[key].records) for key in ordered_keys] if track_records else []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if track_records:
                cursor.execute(UPSERT_KEYS, [structure.pk, *(pg_array(c) for c in zip(*keys, strict=True))])
            returned = []
            if rows:
                if structure.aggregation_type == AggregationType.MC_COUNTER:
                    # Counting needs no totals: neither sent nor added.
                    columns = [pg_array(c) for c in list(zip(*rows, strict=True))[:3]]
                    cursor.execute(UPSERT_COUNTS, [structure.pk, *columns])
                else:
                    columns = [pg_array(c) for c in zip(*rows, strict=True)]
                    cursor.execute(UPSERT_AGGREGATES, [structure.pk, *columns])
                returned = cursor.fetchall()
    else:
        returned = _apply_portably(structure, rows, keys)
    return group_by_key(structure.aggregation_type, returned), group_by_key(structure.aggregation_type, rows)


def _apply_portably(structure: Structure, rows: list, keys: list) -> list[tuple[str, str, int, Decimal]]:
    """The same upsert for databases without ON CONFLICT arithmetic on NUMERIC (SQLite): read, add
    exactly in Python, write; the caller's lock keeps it race-free."""
    existing = {
        (a.key, a.field): a
        for a in Aggregate.objects.filter(structure=structure, key__in={r[0] for r in rows})
    }
    created, changed, result = [], [], []
    for key, name, count, total in rows:
        aggregate = existing.get((key, name))
        if aggregate is None:
            aggregate = Aggregate(structure=structure, key=key, field=name, count=0, total=Decimal(0))
            created.append(aggregate)
        else:
            changed.append(aggregate)
        aggregate.count += count
        aggregate.total = EXACT.add(aggregate.total, total)
        if not storable(aggregate.total):
            raise DataError("numeric field overflow")
        result.append((key, name, aggregate.count, aggregate.total))
    Aggregate.objects.bulk_create(created, batch_size=500)
    Aggregate.objects.bulk_update(changed, ["count", "total"], batch_size=500)
    known = {
        k.key: k for k in AggregateKey.objects.filter(structure=structure, key__in=[key for key, _ in keys])
    }
    for key, records in keys:
        if key in known:
            known[key].records += records
    AggregateKey.objects.bulk_update(list(known.values()), ["records"], batch_size=500)
    AggregateKey.objects.bulk_create(
        [AggregateKey(structure=structure, key=key, records=n) for key, n in keys if key not in known],
        batch_size=500,
    )
    return result


def _settlement_output(structure: Structure) -> tuple[Any, int]:
    """What `settle` returns: the aggregates (none) or one consolidated record per key (1CDR)."""
    rows = Aggregate.objects.filter(structure=structure).values_list("key", "field", "count", "total")
    aggregates = group_by_key(structure.aggregation_type, rows)
    if structure.settlement_type != SettlementType.ONE_CDR:
        return aggregates, len(aggregates)
    records = dict(AggregateKey.objects.filter(structure=structure).values_list("key", "records"))
    consolidated = [
        {
            structure.primary_key: key,
            **{name: aggregates.get(key, {}).get(name, "0") for name in structure.aggregation_metrics},
            "records": records.get(key, 0),
        }
        for key in sorted(records.keys() | aggregates.keys())
    ]
    return consolidated, len(consolidated)


def _reset(structure: Structure) -> None:
    Aggregate.objects.filter(structure=structure).delete()
    AggregateKey.objects.filter(structure=structure).delete()


@transaction.atomic
def settle_structure(*, settleid: str, user: str) -> Settlement:
    """Settle: freeze the current aggregates as a settled entry, then start a new round."""
    structure = _lock(settleid, exclusive=True)
    now = timezone.now()
    output, keys = _settlement_output(structure)
    settlement = Settlement.objects.create(
        structure=structure,
        settled_at=now,
        settled_by=user,
        settlement_type=structure.settlement_type,
        aggregates=output,
        keys=keys,
    )
    _reset(structure)
    structure.last_settlement_at = now
    structure.save(update_fields=["last_settlement_at"])
    _record(structure, Operation.SETTLE, user, now, resets=True)
    return settlement


@transaction.atomic
def clear_structure(*, settleid: str, user: str) -> tuple[Structure, HistoryEntry]:
    """Drop the current aggregates without settling them."""
    structure = _lock(settleid, exclusive=True)
    _reset(structure)
    entry = _record(structure, Operation.CLEAR, user, timezone.now(), resets=True)
    return structure, entry
