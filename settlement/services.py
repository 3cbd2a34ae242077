"""Write operations of the settlement app: create, update (append a batch's delta), fold, settle,
clear, and the idempotent replay of retried requests.

Concurrency: `update` holds the structure row FOR SHARE, `settle`, `clear` and the fold hold it FOR
UPDATE, so updates run in parallel with each other but never overlap a settle: every record lands in
exactly one settlement. An update only appends its delta to the history (one row), so it costs in
proportion to its batch and never waits for another update's rows; the aggregates are brought up to
date ("folded") under the exclusive lock. Every history entry and settlement is a link of the
structure's hash chain (settlement.chain): appending locks the chain row, which orders the links and
makes them visible in that order.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from project.audit import record_action
from settlement import chain
from settlement.aggregation import (
    State,
    combine,
    empty_value,
    from_row,
    merge_delta,
    presented,
    to_json,
    to_row,
)
from settlement.errors import DuplicateStructure, InvalidInput, NothingToSettle
from settlement.models import (
    Aggregate,
    AggregateKey,
    AggregationType,
    ChainHead,
    HistoryEntry,
    Operation,
    SeenValue,
    Settlement,
    SettlementType,
    Structure,
)
from settlement.records import Batch, dedup_values, parse_batch, parse_structure, plain_delta, records_of
from settlement.selectors import current_state, get_structure, locked_structure, pending_entries

logger = logging.getLogger(__name__)
MAX_BATCH_RECORDS = 100_000

# A history append in one round trip: PostgreSQL advances the chain (the row lock orders appends)
# and hashes the link itself, with the function settlement.chain.link computes in Python.
APPEND_HISTORY = """
WITH link AS (
    UPDATE settlement_chain
    SET seq = seq + 1, head = encode(sha256(convert_to(head || %(canonical)s, 'UTF8')), 'hex')
    WHERE structure_id = %(structure)s
    RETURNING seq, head
)
INSERT INTO settlement_history
    (structure_id, operation, "user", at, last_settlement_at, resets, delta, key_records, records,
     duplicates, seq, hash)
SELECT %(structure)s, %(operation)s, %(user)s, %(at)s, %(last_settlement_at)s, %(resets)s, %(delta)s,
    %(key_records)s, %(records)s, %(duplicates)s, link.seq, link.head
FROM link
RETURNING id, seq, hash
"""
# An update of a structure without dedupField in one statement, hence one round trip (and, outside a
# transaction, no separate COMMIT): it takes the structure's shared lock, reads lastSettlement under
# it, advances and hashes the chain, and inserts the entry.
APPEND_UPDATE = """
WITH structure AS (
    SELECT id, last_settlement_at, folded_seq FROM settlement_structure
    WHERE id = %(structure)s AND settleid = %(settleid)s
    FOR SHARE
), link AS (
    UPDATE settlement_chain AS chain
    SET seq = chain.seq + 1,
        head = encode(sha256(convert_to(
            chain.head || %(before)s
            -- lastSettlement as settlement.chain.moment writes it
            || '"' || to_char(structure.last_settlement_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') || '"'
            || %(after)s,
            'UTF8'
        )), 'hex')
    FROM structure
    WHERE chain.structure_id = structure.id
    RETURNING chain.seq, chain.head, structure.last_settlement_at, structure.folded_seq
), entry AS (
    INSERT INTO settlement_history
        (structure_id, operation, "user", at, last_settlement_at, resets, delta, key_records, records,
         duplicates, seq, hash)
    SELECT %(structure)s, 'Update', %(user)s, %(at)s, link.last_settlement_at, false, %(delta)s,
        %(key_records)s, %(records)s, 0, link.seq, link.head
    FROM link
    RETURNING id, seq, hash, last_settlement_at
)
SELECT entry.id, entry.seq, entry.hash, entry.last_settlement_at, link.folded_seq FROM entry, link
"""
# Definitions never change once created (no operation edits them) and structures are never deleted
# (their history protects them), so each process keeps the ones it has used.
_DEFINITIONS: dict[str, Structure] = {}
DEFINITIONS_KEPT = 1000
INSERT_SEEN = """
INSERT INTO settlement_seen_value (structure_id, value)
SELECT %s, v FROM unnest(%s::text[]) AS v ORDER BY v
ON CONFLICT (structure_id, value) DO NOTHING
RETURNING value
"""


@dataclass
class UpdateResult:
    structure: Structure
    entry: HistoryEntry
    # What the batch added to each key it touched, or every key's aggregates: as the reply shows them,
    # unless aggregates_json holds them already serialised (compact, sorted), as the delta just stored.
    aggregates: dict[str, dict[str, str]]
    duplicates: int
    aggregates_json: str | None = None


def _next_link(structure: Structure) -> ChainHead:
    """The chain row, locked until the end of the transaction: appends happen one at a time."""
    return ChainHead.objects.select_for_update().get(structure_id=structure.pk)


def _advance(head: ChainHead, canonical: str) -> None:
    head.seq += 1
    head.head = chain.link(head.head, canonical)
    ChainHead.objects.filter(pk=head.pk).update(seq=head.seq, head=head.head)


def _append_history(
    structure: Structure,
    operation: str,
    user: str,
    at: datetime,
    *,
    resets: bool,
    delta_json: str = "null",
    key_records_json: str = "null",
    records: int = 0,
    duplicates: int = 0,
) -> HistoryEntry:
    """Append a history entry as the next link of the chain; the delta comes serialised (canonical)."""
    canonical = chain.history_canonical(
        settleid=structure.settleid,
        operation=operation,
        user=user,
        at=at,
        last_settlement_at=structure.last_settlement_at,
        resets=resets,
        records=records,
        duplicates=duplicates,
        delta_json=delta_json,
        key_records_json=key_records_json,
    )
    entry = HistoryEntry(
        structure=structure,
        operation=operation,
        user=user,
        at=at,
        last_settlement_at=structure.last_settlement_at,
        resets=resets,
        records=records,
        duplicates=duplicates,
    )
    # Raw SQL so that the delta goes in as the text just hashed, not serialised a second time.
    values = {
        "structure": structure.pk,
        "canonical": canonical,
        "operation": operation,
        "user": user,
        "at": at,
        "last_settlement_at": structure.last_settlement_at,
        "resets": resets,
        "delta": None if delta_json == "null" else delta_json,
        "key_records": None if key_records_json == "null" else key_records_json,
        "records": records,
        "duplicates": duplicates,
    }
    with connection.cursor() as cursor:
        cursor.execute(APPEND_HISTORY, values)
        entry.pk, entry.seq, entry.hash = cursor.fetchone()
    return entry


def create_structure(*, payload: Any, user: str) -> tuple[Structure, HistoryEntry]:
    """Create a structure from a `create` body; its history (and chain) starts with a Create entry."""
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
                dedup_field=spec.dedup_field,
                created_at=now,
                created_by=user,
                last_settlement_at=now,
            )
            ChainHead.objects.create(structure=structure)
            entry = _append_history(structure, Operation.CREATE, user, now, resets=True)
            structure.folded_seq = entry.seq
            structure.save(update_fields=["folded_seq"])
    except IntegrityError:
        raise DuplicateStructure(spec.settleid) from None
    return structure, entry


def pg_array(values) -> str:
    """A PostgreSQL array literal. One literal per column parses far faster than psycopg2's
    ARRAY[...] constructor with one constant per element. Values never hold NUL (refused by the
    parser), so NUL can separate them while escaping once."""
    joined = "\x00".join(map(str, values)).replace("\\", "\\\\").replace('"', '\\"')
    return '{"' + joined.replace("\x00", '","') + '"}'


def _duplicates(structure: Structure, records: list) -> frozenset[int]:
    """Indexes of the records whose dedupField value was already seen since the last settle or clear
    (or earlier in this batch); the others' values are recorded as seen."""
    values, problems = dedup_values(records, structure.dedup_field)
    if problems:
        raise InvalidInput("Nothing was applied: " + "; ".join(problems))
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        first.setdefault(value, index)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SEEN, [structure.pk, pg_array(sorted(first))])
        new = {row[0] for row in cursor.fetchall()}
    return frozenset(i for i, value in enumerate(values) if value not in new or first[value] != i)


def _delta(kind: str, batch: Batch) -> dict[str, dict[str, Any]]:
    if kind == AggregationType.MC_COUNTER:  # counts as strings, without the general to_json()
        return {
            key: {name: str(n) for name, n in tally.values.items()}
            for key, tally in batch.keys.items()
            if tally.values
        }
    return {
        key: {name: to_json(kind, value) for name, value in tally.values.items()}
        for key, tally in batch.keys.items()
        if tally.values
    }


def _definition(settleid: str) -> Structure:
    """The structure's definition, read once per process; its other fields are not kept current."""
    structure = _DEFINITIONS.get(settleid)
    if structure is None:
        structure = get_structure(settleid=settleid)
        if len(_DEFINITIONS) >= DEFINITIONS_KEPT:
            _DEFINITIONS.clear()
        _DEFINITIONS[settleid] = structure
    return structure


def _tally(structure: Structure, records: list, skip: frozenset[int]) -> tuple[Batch, dict, str]:
    """(batch, delta, key records as JSON) of valid records; InvalidInput naming the bad ones."""
    kind = structure.aggregation_type
    batch, problems = parse_batch(
        records,
        primary_key=structure.primary_key,
        aggregates=structure.aggregation_metrics,
        aggregation_type=kind,
        skip=skip,
    )
    if problems:
        raise InvalidInput("Nothing was applied: " + "; ".join(problems))
    key_records_json = "null"
    if structure.settlement_type == SettlementType.ONE_CDR:
        key_records_json = chain.dumps({key: tally.records for key, tally in batch.keys.items()})
    return batch, _delta(kind, batch), key_records_json


def _touched(kind: str, batch: Batch, delta: dict) -> dict[str, dict[str, str]]:
    """What the batch contributed to each key it touched, as presented."""
    if kind == AggregationType.UNIQUE_COUNT:
        return presented(kind, {key: tally.values for key, tally in batch.keys.items() if tally.values})
    return delta  # the delta already holds each value as presented


def _append_update(
    structure: Structure, *, user: str, records: int, delta_json: str, key_records_json: str
) -> tuple[HistoryEntry, int] | None:
    """Append an update in one statement (APPEND_UPDATE): (entry, folded_seq), or None when the
    structure is not (or no longer) the one cached under its settleid."""
    at = timezone.now()
    canonical = chain.history_canonical(
        settleid=structure.settleid,
        operation=Operation.UPDATE,
        user=user,
        at=at,
        last_settlement_at=None,
        resets=False,
        records=records,
        duplicates=0,
        delta_json=delta_json,
        key_records_json=key_records_json,
    )
    before, after = canonical.split(chain.LAST_SETTLEMENT_PLACEHOLDER)
    values = {
        "structure": structure.pk,
        "settleid": structure.settleid,
        "before": before,
        "after": after,
        "user": user,
        "at": at,
        "delta": delta_json,
        "key_records": None if key_records_json == "null" else key_records_json,
        "records": records,
    }
    with connection.cursor() as cursor:
        cursor.execute(APPEND_UPDATE, values)
        row = cursor.fetchone()
    if row is None:
        return None
    pk, seq, digest, last_settlement_at, folded_seq = row
    entry = HistoryEntry(
        pk=pk,
        structure=structure,
        operation=Operation.UPDATE,
        user=user,
        at=at,
        last_settlement_at=last_settlement_at,
        resets=False,
        records=records,
        seq=seq,
        hash=digest,
    )
    return entry, folded_seq


def update_structure(*, settleid: str, payload: Any, user: str, full: bool = True) -> UpdateResult:
    """Apply a batch of records atomically by appending its delta to the history. The result holds
    every key's aggregates (`full`) or only what this batch contributed to the keys it touched."""
    records, problems = records_of(payload, MAX_BATCH_RECORDS)
    if problems:
        raise InvalidInput("Nothing was applied: " + "; ".join(problems))
    structure = _definition(settleid)
    if not full and not structure.dedup_field:
        # The fast path: parse first (the definition cannot change), then one statement.
        kind = structure.aggregation_type
        aggregates: dict[str, dict[str, str]] = {}
        plain = plain_delta(
            records,
            primary_key=structure.primary_key,
            aggregates=structure.aggregation_metrics,
            aggregation_type=kind,
            key_records=structure.settlement_type == SettlementType.ONE_CDR,
        )
        if plain is None:
            batch, delta, key_records_json = _tally(structure, records, frozenset())
            delta_json = chain.dumps(delta)
            if kind == AggregationType.UNIQUE_COUNT:
                aggregates = _touched(kind, batch, delta)
        else:
            delta_json, key_records_json = plain
        appended = _append_update(
            structure,
            user=user,
            records=len(records),
            delta_json=delta_json,
            key_records_json=key_records_json,
        )
        if appended is None:  # another structure under this settleid since it was cached
            _DEFINITIONS.pop(settleid, None)
            return update_structure(settleid=settleid, payload=payload, user=user, full=full)
        entry, folded_seq = appended
        _fold_soon(structure, entry.seq, folded_seq)
        # Every other type's delta holds each value as presented: the reply reuses its text.
        reused = kind != AggregationType.UNIQUE_COUNT and delta_json != "{}"
        return UpdateResult(structure, entry, aggregates, 0, delta_json if reused else None)
    with transaction.atomic():
        # Parsing needs the structure's definition; holding the shared lock meanwhile only delays a
        # settle, never another update.
        structure = locked_structure(settleid=settleid, exclusive=False)
        skip = _duplicates(structure, records) if structure.dedup_field else frozenset()
        batch, delta, key_records_json = _tally(structure, records, skip)
        entry = _append_history(
            structure,
            Operation.UPDATE,
            user,
            timezone.now(),
            resets=False,
            delta_json=chain.dumps(delta),
            key_records_json=key_records_json,
            records=batch.records,
            duplicates=batch.duplicates,
        )
        if full:
            aggregates = presented(structure.aggregation_type, current_state(structure)[0])
        else:
            aggregates = _touched(structure.aggregation_type, batch, delta)
    _fold_soon(structure, entry.seq, structure.folded_seq)
    return UpdateResult(structure, entry, aggregates, batch.duplicates)


def _fold_soon(structure: Structure, seq: int, folded_seq: int) -> None:
    """Every SETTLEMENT_FOLD_EVERY appended deltas, have a django-q2 worker fold them in, so reads
    and settles stay cheap; a settle or clear folds anyway."""
    every = settings.SETTLEMENT_FOLD_EVERY
    pending = seq - folded_seq
    if every and pending and pending % every == 0:
        from django_q.tasks import async_task

        async_task(
            "settlement.tasks.fold_structure", structure.pk, task_name=f"settlement-fold-{structure.pk}"
        )


def _store(structure: Structure, state: State, records: dict[str, int]) -> None:
    """Write a folded state over the structure's aggregate rows (replacing them)."""
    kind = structure.aggregation_type
    Aggregate.objects.bulk_create(
        [
            Aggregate(
                structure=structure,
                key=key,
                field=name,
                **dict(zip(("count", "total", "value"), to_row(kind, value), strict=True)),
            )
            for key, fields in sorted(state.items())
            for name, value in sorted(fields.items())
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["structure", "key", "field"],
        update_fields=["count", "total", "value"],
    )
    AggregateKey.objects.bulk_create(
        [AggregateKey(structure=structure, key=key, records=n) for key, n in sorted(records.items())],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["structure", "key"],
        update_fields=["records"],
    )


def fold_structure(*, structure_id: int) -> int:
    """Fold the appended deltas into the stored aggregates; returns how many entries were folded."""
    with transaction.atomic():
        structure = Structure.objects.select_for_update().filter(pk=structure_id).first()
        if structure is None:
            return 0
        entries = list(pending_entries(structure))
        if not entries:
            return 0
        kind = structure.aggregation_type
        pending: State = {}
        pending_records: dict[str, int] = {}
        for _, delta, key_records in entries:
            merge_delta(kind, pending, delta or {})
            for key, n in (key_records or {}).items():
                pending_records[key] = pending_records.get(key, 0) + n
        rows = Aggregate.objects.filter(structure=structure, key__in=list(pending))
        for key, name, count, total, value in rows.values_list("key", "field", "count", "total", "value"):
            fields = pending[key]
            if name in fields:
                fields[name] = combine(kind, from_row(kind, count, total, value), fields[name])
        known = AggregateKey.objects.filter(structure=structure, key__in=list(pending_records))
        for key, records in known.values_list("key", "records"):
            pending_records[key] += records
        _store(structure, pending, pending_records)
        structure.folded_seq = entries[-1][0]
        structure.save(update_fields=["folded_seq"])
    return len(entries)


def fold_all() -> int:
    """Fold every structure with appended deltas (the background schedule)."""
    folded = 0
    for structure_id in Structure.objects.values_list("pk", flat=True):
        folded += fold_structure(structure_id=structure_id)
    return folded


def _settlement_output(structure: Structure, state: State, records: dict[str, int]) -> tuple[Any, int]:
    """What `settle` returns: the aggregates (none) or one consolidated record per key (1CDR)."""
    kind = structure.aggregation_type
    aggregates = presented(kind, state)
    if structure.settlement_type != SettlementType.ONE_CDR:
        return aggregates, len(aggregates)
    empty = empty_value(kind)
    consolidated = [
        {
            structure.primary_key: key,
            **{name: aggregates.get(key, {}).get(name, empty) for name in structure.aggregation_metrics},
            "records": records.get(key, 0),
        }
        for key in sorted(records.keys() | aggregates.keys())
    ]
    return consolidated, len(consolidated)


def _reset(structure: Structure, entry: HistoryEntry) -> None:
    """Start a new round after `entry` (settle or clear): no aggregates, nothing pending, no seen values."""
    Aggregate.objects.filter(structure=structure).delete()
    AggregateKey.objects.filter(structure=structure).delete()
    SeenValue.objects.filter(structure=structure).delete()
    structure.folded_seq = entry.seq
    structure.save(update_fields=["folded_seq", "last_settlement_at"])


@transaction.atomic
def settle_structure(*, settleid: str, user: str) -> tuple[Settlement, str]:
    """Settle: freeze the current aggregates as a settled entry, then start a new round. Returns the
    settlement and the chain's head after it (to be published)."""
    structure = locked_structure(settleid=settleid, exclusive=True)
    state, records = current_state(structure)
    if not state and not records:
        raise NothingToSettle(settleid)
    now = timezone.now()
    output, keys = _settlement_output(structure, state, records)
    head = _next_link(structure)
    _advance(
        head,
        chain.settlement_canonical(
            settleid=structure.settleid,
            settled_at=now,
            settled_by=user,
            settlement_type=structure.settlement_type,
            aggregates=output,
            keys=keys,
        ),
    )
    settlement = Settlement.objects.create(
        structure=structure,
        settled_at=now,
        settled_by=user,
        settlement_type=structure.settlement_type,
        aggregates=output,
        keys=keys,
        seq=head.seq,
        hash=head.head,
    )
    structure.last_settlement_at = now
    entry = _append_history(structure, Operation.SETTLE, user, now, resets=True)
    _reset(structure, entry)
    record_action("settlement.settle", target=structure, changes={"settlement": settlement.pk, "keys": keys})
    # Logged heads are one of the published copies that make rewriting the chain detectable.
    logger.info("settlement %s settled (#%s): chain head %s", structure.settleid, settlement.pk, entry.hash)
    return settlement, entry.hash


@transaction.atomic
def clear_structure(*, settleid: str, user: str) -> tuple[Structure, HistoryEntry]:
    """Drop the current aggregates without settling them."""
    structure = locked_structure(settleid=settleid, exclusive=True)
    entry = _append_history(structure, Operation.CLEAR, user, timezone.now(), resets=True)
    _reset(structure, entry)
    record_action("settlement.clear", target=structure)
    return structure, entry
