"""What each aggregation type keeps per key and field, and how batches, deltas and stored rows combine.

Pure functions over three forms of a value: the working form (int count, exact Decimal, text, or a
set of texts), the JSON form kept in a history delta (strings, or a sorted list for uniqueCount) and
the presented form the API answers (always a string, as in the spec).
"""

from decimal import Context, Decimal, InvalidOperation
from typing import Any

from settlement.models import TOTAL_MAX_DIGITS, AggregationType

# Python's default context keeps 28 digits; totals are wider, and sums must never round.
EXACT = Context(prec=2 * TOTAL_MAX_DIGITS, traps=[InvalidOperation])

EXACT_TYPES = {AggregationType.ONE_CDR, AggregationType.MIN, AggregationType.MAX}
State = dict[str, dict[str, Any]]


def format_decimal(value: Decimal) -> str:
    """A decimal as the API shows it: plain notation, no exponent, no padding zeros."""
    if value.is_zero():
        return "0"
    return format(value.normalize(EXACT), "f")


def combine(kind: str, earlier: Any, later: Any) -> Any:
    """The value of two consecutive contributions (`earlier` may be mutated and returned)."""
    if kind == AggregationType.MC_COUNTER:
        return earlier + later
    if kind == AggregationType.ONE_CDR:
        return EXACT.add(earlier, later)
    if kind == AggregationType.MIN:
        return min(earlier, later)
    if kind == AggregationType.MAX:
        return max(earlier, later)
    if kind == AggregationType.LATEST:
        return later
    earlier |= later
    return earlier


def to_json(kind: str, value: Any) -> Any:
    if kind == AggregationType.MC_COUNTER:
        return str(value)
    if kind in EXACT_TYPES:
        return format_decimal(value)
    if kind == AggregationType.UNIQUE_COUNT:
        return sorted(value)
    return value


def from_json(kind: str, value: Any) -> Any:
    if kind == AggregationType.MC_COUNTER:
        return int(value)
    if kind in EXACT_TYPES:
        return Decimal(value)
    if kind == AggregationType.UNIQUE_COUNT:
        return set(value)
    return value


def present(kind: str, value: Any) -> str:
    if kind == AggregationType.MC_COUNTER:
        return str(value)
    if kind in EXACT_TYPES:
        return format_decimal(value)
    if kind == AggregationType.UNIQUE_COUNT:
        return str(len(value))
    return value


def merge_delta(kind: str, state: State, delta: dict[str, dict[str, Any]]) -> None:
    """Fold one stored delta (JSON form) into `state` (working form)."""
    for key, values in delta.items():
        fields = state.get(key)
        if fields is None:
            state[key] = {name: from_json(kind, value) for name, value in values.items()}
            continue
        for name, value in values.items():
            current = fields.get(name)
            value = from_json(kind, value)
            fields[name] = value if current is None else combine(kind, current, value)


def merge_records(state: dict[str, int], key_records: dict[str, int] | None) -> None:
    for key, records in (key_records or {}).items():
        state[key] = state.get(key, 0) + records


def delta_of(kind: str, state: State) -> dict[str, dict[str, Any]]:
    return {
        key: {name: to_json(kind, value) for name, value in fields.items()} for key, fields in state.items()
    }


def presented(kind: str, state: State) -> dict[str, dict[str, str]]:
    """{key: {field: value}} as the API answers it, keys in order."""
    return {
        key: {name: present(kind, value) for name, value in sorted(state[key].items())}
        for key in sorted(state)
    }


def from_row(kind: str, count: int, total: Decimal, value: Any) -> Any:
    """The working value of a stored aggregate row."""
    if kind == AggregationType.MC_COUNTER:
        return count
    if kind in EXACT_TYPES:
        return total
    if kind == AggregationType.UNIQUE_COUNT:
        return set(value)
    return value


def to_row(kind: str, value: Any) -> tuple[int, Decimal, Any]:
    """(count, total, value) columns of a stored aggregate row."""
    if kind == AggregationType.MC_COUNTER:
        return value, Decimal(0), None
    if kind in EXACT_TYPES:
        return 0, value, None
    if kind == AggregationType.UNIQUE_COUNT:
        return len(value), Decimal(0), sorted(value)
    return 0, Decimal(0), value


def empty_value(kind: str) -> str | None:
    """What a 1CDR consolidated record shows for a field no record of the key carried."""
    if kind in (AggregationType.MC_COUNTER, AggregationType.ONE_CDR, AggregationType.UNIQUE_COUNT):
        return "0"
    return None
