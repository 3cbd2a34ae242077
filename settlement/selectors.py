"""Read operations of the settlement app: current state, history (folded from deltas), settlements."""

from decimal import Decimal
from typing import Any

from django.db import transaction

from settlement.documents import Aggregates, group_by_key, settled_document, structure_document
from settlement.errors import UnknownStructure
from settlement.models import Aggregate, AggregationType, HistoryEntry, Settlement, Structure
from settlement.records import EXACT, clean_text, format_decimal


def get_structure(*, settleid: str) -> Structure:
    """The structure called `settleid`; UnknownStructure otherwise."""
    structure = Structure.objects.filter(settleid=settleid).first() if clean_text(settleid) else None
    if structure is None:
        raise UnknownStructure(settleid)
    return structure


def current_aggregates(structure: Structure) -> Aggregates:
    rows = Aggregate.objects.filter(structure=structure).order_by("key", "field")
    return group_by_key(structure.aggregation_type, rows.values_list("key", "field", "count", "total"))


def latest_entry(structure: Structure) -> HistoryEntry:
    return HistoryEntry.objects.filter(structure=structure).order_by("-id").first()


def structure_state(*, settleid: str) -> dict[str, Any]:
    """The settlement object with its current aggregates (GET /settlement/{settleId})."""
    with transaction.atomic():
        structure = get_structure(settleid=settleid)
        return structure_document(
            structure, entry=latest_entry(structure), aggregates=current_aggregates(structure)
        )


def _add(aggregation_type: str, state: dict[str, dict[str, Any]], delta: dict) -> None:
    summing = aggregation_type == AggregationType.ONE_CDR
    for key, values in delta.items():
        fields = state.setdefault(key, {})
        for name, text in values.items():
            if summing:
                fields[name] = EXACT.add(fields.get(name, Decimal(0)), Decimal(text))
            else:
                fields[name] = fields.get(name, 0) + int(text)


def _present(aggregation_type: str, state: dict[str, dict[str, Any]]) -> Aggregates:
    show = format_decimal if aggregation_type == AggregationType.ONE_CDR else str
    return {key: {name: show(value) for name, value in fields.items()} for key, fields in state.items()}


def structure_history(*, settleid: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Every operation (or the newest `limit`) with the full state after it, newest first."""
    structure = get_structure(settleid=settleid)
    entries = HistoryEntry.objects.filter(structure=structure)
    oldest = 0
    if limit is not None:
        window = list(entries.order_by("-id").values_list("id", flat=True)[:limit])
        oldest = window[-1] if window else 0
        # Folding starts at the newest reset (create, settle, clear) at or before the window.
        resets = entries.filter(resets=True, id__lte=oldest).order_by("-id").values_list("id", flat=True)
        entries = entries.filter(id__gte=resets.first() or 0)
    documents = []
    state: dict[str, dict[str, Any]] = {}
    for entry in entries.order_by("id").iterator(chunk_size=200):
        if entry.resets:
            state = {}
        else:
            _add(structure.aggregation_type, state, entry.delta)
        if entry.id >= oldest:
            aggregates = _present(structure.aggregation_type, state)
            documents.append(structure_document(structure, entry=entry, aggregates=aggregates))
    documents.reverse()
    return documents


def settled_entries(*, settleid: str) -> list[dict[str, Any]]:
    """All settled entries of a structure, newest first (GET …/settled)."""
    structure = get_structure(settleid=settleid)
    settlements = Settlement.objects.filter(structure=structure).order_by("-id")
    return [settled_document(s.aggregates, s.settled_at) for s in settlements]
