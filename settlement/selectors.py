"""Read operations of the settlement app: current state (stored aggregates plus appended deltas),
history (folded from deltas), settlements, and the verification of the hash chain."""

import heapq
from collections.abc import Iterator
from typing import Any

from django.db import transaction

from settlement import chain
from settlement.aggregation import State, from_row, merge_delta, merge_records, presented
from settlement.documents import settled_document, structure_document
from settlement.errors import UnknownStructure
from settlement.models import (
    Aggregate,
    AggregateKey,
    ChainHead,
    HistoryEntry,
    Settlement,
    SettlementType,
    Structure,
)
from settlement.records import clean_text


def get_structure(*, settleid: str) -> Structure:
    """The structure called `settleid`; UnknownStructure otherwise."""
    structure = Structure.objects.filter(settleid=settleid).first() if clean_text(settleid) else None
    if structure is None:
        raise UnknownStructure(settleid)
    return structure


def locked_structure(*, settleid: str, exclusive: bool) -> Structure:
    """The structure row, locked until the end of the transaction (shared for updates and reads)."""
    if not clean_text(settleid):
        raise UnknownStructure(settleid)
    if exclusive:
        structure = Structure.objects.select_for_update().filter(settleid=settleid).first()
    else:
        rows = list(
            Structure.objects.raw(
                "SELECT * FROM settlement_structure WHERE settleid = %s FOR SHARE", [settleid]
            )
        )
        structure = rows[0] if rows else None
    if structure is None:
        raise UnknownStructure(settleid)
    return structure


def pending_entries(structure: Structure) -> Iterator[tuple[int, dict | None, dict | None]]:
    """(seq, delta, key records) of the updates appended since the last fold, oldest first."""
    entries = HistoryEntry.objects.filter(structure=structure, seq__gt=structure.folded_seq).order_by("seq")
    return entries.values_list("seq", "delta", "key_records").iterator(chunk_size=100)


def current_state(structure: Structure) -> tuple[State, dict[str, int]]:
    """(aggregates in working form, records per key for 1CDR settlements) now: the stored rows plus
    the deltas appended since. The caller holds the structure's lock, so no fold runs meanwhile."""
    kind = structure.aggregation_type
    state: State = {}
    rows = Aggregate.objects.filter(structure=structure).values_list(
        "key", "field", "count", "total", "value"
    )
    for key, name, count, total, value in rows.iterator(chunk_size=5000):
        fields = state.get(key)
        if fields is None:
            fields = state[key] = {}
        fields[name] = from_row(kind, count, total, value)
    records: dict[str, int] = {}
    tracking = structure.settlement_type == SettlementType.ONE_CDR
    if tracking:
        records = dict(AggregateKey.objects.filter(structure=structure).values_list("key", "records"))
    for _, delta, key_records in pending_entries(structure):
        merge_delta(kind, state, delta or {})
        if tracking:
            merge_records(records, key_records)
    return state, records


def current_aggregates(structure: Structure) -> dict[str, dict[str, str]]:
    return presented(structure.aggregation_type, current_state(structure)[0])


def latest_entry(structure: Structure) -> HistoryEntry:
    return HistoryEntry.objects.filter(structure=structure).order_by("-id").first()


def structure_state(*, settleid: str) -> dict[str, Any]:
    """The settlement object with its current aggregates (GET /settlement/{settleId})."""
    with transaction.atomic():
        structure = locked_structure(settleid=settleid, exclusive=False)
        return structure_document(
            structure, entry=latest_entry(structure), aggregates=current_aggregates(structure)
        )


def structure_history(*, settleid: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Every operation (or the newest `limit`) with the full state after it, newest first."""
    structure = get_structure(settleid=settleid)
    kind = structure.aggregation_type
    entries = HistoryEntry.objects.filter(structure=structure)
    oldest = 0
    if limit is not None:
        window = list(entries.order_by("-id").values_list("id", flat=True)[:limit])
        oldest = window[-1] if window else 0
        # Folding starts at the newest reset (create, settle, clear) at or before the window.
        resets = entries.filter(resets=True, id__lte=oldest).order_by("-id").values_list("id", flat=True)
        entries = entries.filter(id__gte=resets.first() or 0)
    documents = []
    state: State = {}
    for entry in entries.order_by("id").iterator(chunk_size=200):
        if entry.resets:
            state = {}
        else:
            merge_delta(kind, state, entry.delta)
        if entry.id >= oldest:
            documents.append(structure_document(structure, entry=entry, aggregates=presented(kind, state)))
    documents.reverse()
    return documents


def settled_entries(*, settleid: str) -> list[dict[str, Any]]:
    """All settled entries of a structure, newest first (GET …/settled)."""
    structure = get_structure(settleid=settleid)
    settlements = Settlement.objects.filter(structure=structure).order_by("-id")
    return [settled_document(s.aggregates, s.settled_at) for s in settlements]


def _links(structure: Structure) -> Iterator[tuple[int, str, int, str, str]]:
    """(seq, kind, id, stored hash, canonical JSON) of every link of the chain, in chain order."""
    history = (
        (
            entry.seq,
            "history",
            entry.pk,
            entry.hash,
            chain.history_canonical(
                settleid=structure.settleid,
                operation=entry.operation,
                user=entry.user,
                at=entry.at,
                last_settlement_at=entry.last_settlement_at,
                resets=entry.resets,
                records=entry.records,
                duplicates=entry.duplicates,
                delta_json=chain.dumps(entry.delta),
                key_records_json=chain.dumps(entry.key_records),
            ),
        )
        for entry in HistoryEntry.objects.filter(structure=structure).order_by("seq").iterator(chunk_size=200)
    )
    settlements = (
        (
            settlement.seq,
            "settlement",
            settlement.pk,
            settlement.hash,
            chain.settlement_canonical(
                settleid=structure.settleid,
                settled_at=settlement.settled_at,
                settled_by=settlement.settled_by,
                settlement_type=settlement.settlement_type,
                aggregates=settlement.aggregates,
                keys=settlement.keys,
            ),
        )
        for settlement in Settlement.objects.filter(structure=structure)
        .order_by("seq")
        .iterator(chunk_size=50)
    )
    return heapq.merge(history, settlements)


def verify_chain(*, settleid: str) -> dict[str, Any]:
    """Recompute the structure's chain: {"valid": true, "entries": n, "head": hash}, or "valid": false
    with the first link that does not match (edited, missing or out of place)."""
    structure = get_structure(settleid=settleid)
    previous, entries = "", 0
    for seq, kind, pk, stored, canonical in _links(structure):
        expected = chain.link(previous, canonical)
        if seq != entries + 1 or stored != expected:
            problem = (
                "hash does not match its content" if seq == entries + 1 else f"link {entries + 1} is missing"
            )
            return _invalid(entries, previous, {"kind": kind, "id": pk, "seq": seq, "problem": problem})
        previous, entries = stored, entries + 1
    head = ChainHead.objects.filter(structure=structure).first()
    if head is None or (head.seq, head.head) != (entries, previous):
        problem = "the chain's head does not match its last link (links removed at the end?)"
        return _invalid(
            entries, previous, {"kind": "head", "seq": head.seq if head else None, "problem": problem}
        )
    return {"valid": True, "entries": entries, "head": previous}


def _invalid(entries: int, head: str, first: dict[str, Any]) -> dict[str, Any]:
    return {"valid": False, "entries": entries, "head": head, "firstInvalid": first}
