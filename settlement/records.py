"""Pure parsing of Settle API bodies: structure definitions and record batches.

Nothing here touches the database. Each parser returns (result, problems); problems are messages a
client can act on, and a batch with any problem is refused as a whole.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from json.encoder import encode_basestring_ascii
from typing import Any

from settlement.aggregation import EXACT, combine, format_decimal
from settlement.models import (
    TOTAL_DECIMAL_PLACES,
    VALUE_INTEGER_DIGITS,
    AggregationType,
    SettlementType,
)

INTEGER_DIGITS = VALUE_INTEGER_DIGITS
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# The usual amount, "-12.50": a number that fits the stored precision as written (checked by this
# match alone; anything else takes the general path).
PLAIN_AMOUNT = re.compile(r"-?\d{1,28}(?:\.\d{1,12})?")
# Plain amounts joined by newlines: a batch's amounts checked in one match (when the text holds no other
# newline than the joins).
PLAIN_AMOUNT_LINES = re.compile(rf"(?:{PLAIN_AMOUNT.pattern}\n)*{PLAIN_AMOUNT.pattern}")
NAME_MAX_LENGTH = 200
# These paths belong to the API itself, so a structure cannot be called so.
RESERVED_SETTLE_IDS = {"create", "openapi.json", "healthcheck"}
MAX_PROBLEMS = 10
ORDINAL_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}
# PostgreSQL text cannot hold NUL, UTF-8 cannot hold lone surrogates, and a btree entry must stay
# well under 2,704 bytes with the field name beside the key.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
KEY_MAX_BYTES = 1000
# A number key or value is written out in plain notation; beyond this exponent it could not fit.
NUMBER_MAX_EXPONENT = KEY_MAX_BYTES


@dataclass(frozen=True)
class StructureSpec:
    settleid: str
    aggregates: list[str]
    primary_key: str
    aggregation_type: str
    settlement_type: str
    record: dict
    dedup_field: str = ""


@dataclass(slots=True)
class KeyTally:
    """One key's share of a batch: its records and, per field, the batch's value in working form
    (count, exact Decimal, text or set of texts; see settlement.aggregation)."""

    records: int = 0
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    """A batch folded per primary-key value: the delta it adds to the aggregates."""

    records: int = 0
    keys: dict[str, KeyTally] = field(default_factory=dict)
    duplicates: int = 0


def clean_text(value: str) -> bool:
    """True when PostgreSQL can store `value` as text."""
    return not UNSTORABLE.search(value)


def clean_json(value: Any) -> bool:
    """True when every string in a JSON value (keys too) is storable."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return all(clean_json(item) for item in value)
    if isinstance(value, dict):
        return all(clean_text(key) and clean_json(item) for key, item in value.items())
    return True


def parse_number(value: Any) -> Decimal | None:
    """The exact decimal in a JSON number or numeric string; None when it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        return None
    return number if number.is_finite() else None


def storable(number: Decimal) -> bool:
    """True when the column keeps `number` exactly (no rounding, no overflow)."""
    if number.is_zero():
        return True
    normal = number.normalize(EXACT)
    return normal.as_tuple().exponent >= -TOTAL_DECIMAL_PLACES and normal.adjusted() < INTEGER_DIGITS


def ordinal(index: int) -> str:
    """`record[1] (2nd)`: the 0-based index of the JSON array and the human 1-based position."""
    position = index + 1
    suffix = "th" if 10 <= position % 100 <= 20 else ORDINAL_SUFFIXES.get(position % 10, "th")
    return f"record[{index}] ({position}{suffix})"


def parse_aggregate_names(value: Any) -> tuple[list[str], list[str]]:
    """Field names from a JSON list or from the spec's string form "['msg', 'op']"."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        value = [
            quoted_single or quoted_double or bare
            for quoted_single, quoted_double, bare in re.findall(r"'([^']*)'|\"([^\"]*)\"|([^,\s'\"]+)", text)
        ]
    if not isinstance(value, list) or not value:
        return [], ["'aggregates' must be a non-empty list of field names (or a string like \"['op']\")"]
    problems = [
        f"'aggregates' item {index} must be a non-empty string of at most {NAME_MAX_LENGTH} characters"
        for index, name in enumerate(value)
        if not isinstance(name, str)
        or not name.strip()
        or len(name) > NAME_MAX_LENGTH
        or not clean_text(name)
    ]
    if problems:
        return [], problems
    names = [name.strip() for name in value]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        return [], [f"'aggregates' lists {', '.join(repr(name) for name in duplicates)} more than once"]
    return names, []


def _name(payload: dict, key: str, problems: list[str]) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"'{key}' is required and must be a non-empty string")
        return ""
    if len(value) > NAME_MAX_LENGTH or not clean_text(value):
        problems.append(f"'{key}' must be at most {NAME_MAX_LENGTH} characters, without NUL characters")
    return value.strip()


def _choice(payload: dict, key: str, choices: list[str], problems: list[str]) -> str:
    value = payload.get(key)
    if value not in choices:
        problems.append(f"'{key}' must be one of {', '.join(choices)} (got {value!r})")
        return ""
    return value


def parse_structure(payload: Any) -> tuple[StructureSpec | None, list[str]]:
    """The structure defined by a `create` body, or the problems that prevent it."""
    if not isinstance(payload, dict):
        return None, ["The body must be a JSON object describing the structure"]
    problems: list[str] = []
    settleid = _name(payload, "settleid", problems)
    if settleid and (
        "/" in settleid or any(c.isspace() for c in settleid) or settleid.lower() in RESERVED_SETTLE_IDS
    ):
        problems.append(
            f"'settleid' {settleid!r} cannot be used in a URL path (no '/', no spaces, not reserved)"
        )
    names, name_problems = parse_aggregate_names(payload.get("aggregates"))
    problems += name_problems
    primary_key = _name(payload, "primaryKey", problems)
    aggregation_type = _choice(payload, "aggregationType", AggregationType.values, problems)
    settlement_type = _choice(payload, "settlementType", SettlementType.values, problems)
    record = payload.get("record")
    if not isinstance(record, dict):
        problems.append("'record' must be a sample record (a JSON object)")
    elif not clean_json(record):
        problems.append("'record' contains NUL characters or invalid Unicode")
    else:
        missing = [name for name in [primary_key, *names] if name and name not in record]
        if missing:
            problems.append(f"'record' lacks {', '.join(repr(name) for name in missing)}")
    dedup_field = payload.get("dedupField") or ""
    if not isinstance(dedup_field, str) or len(dedup_field) > NAME_MAX_LENGTH or not clean_text(dedup_field):
        problems.append(f"'dedupField' must be a record field name of at most {NAME_MAX_LENGTH} characters")
        dedup_field = ""
    elif dedup_field and isinstance(record, dict) and dedup_field not in record:
        problems.append(f"'record' lacks the dedupField {dedup_field!r}")
    if settlement_type == SettlementType.ONE_CDR:
        # A consolidated record holds the key and "records" next to the totals.
        clashes = [name for name in names if name in (primary_key, "records")]
        if clashes:
            problems.append(f"a 1CDR settlement cannot aggregate {', '.join(repr(n) for n in clashes)}")
    if problems:
        return None, problems
    spec = StructureSpec(settleid, names, primary_key, aggregation_type, settlement_type, record, dedup_field)
    return spec, []


def canonical_number(number: Decimal) -> str | None:
    """The one spelling of a JSON number used as a key or a text value: plain notation, no exponent,
    no trailing zeros, every significant digit kept (5, 5.0 and 5e0 are "5"; 1.5E+3 is "1500";
    1e-7 is "0.0000001"); None when it is not finite or would need more than NUMBER_MAX_EXPONENT digits."""
    if not number.is_finite() or abs(number.adjusted()) > NUMBER_MAX_EXPONENT:
        return None
    return format_decimal(number)


def canonical_text(value: Any) -> str | None:
    """A key or text value as stored: strings as sent, JSON numbers in their canonical spelling; None
    for anything else (null, booleans, objects, arrays) and for text PostgreSQL cannot index."""
    if isinstance(value, str):  # the usual case, tested first: this runs once per record
        text = value
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, Decimal):
        text = canonical_number(value)
        if text is None:
            return None
    else:
        return None
    # isspace() is strip()'s notion of whitespace, without building a stripped copy; ASCII text can
    # only hold the NUL of the unstorable characters.
    if not text or text.isspace() or ("\x00" in text if text.isascii() else UNSTORABLE.search(text)):
        return None
    # A character takes at most 4 bytes in UTF-8: short keys need no encoding to be measured.
    if len(text) * 4 > KEY_MAX_BYTES and len(text.encode()) > KEY_MAX_BYTES:
        return None
    return text


def parse_value(kind: str, value: Any) -> tuple[Any, str]:
    """A record's field value in working form for aggregation `kind`, or the problem with it."""
    if kind == AggregationType.MC_COUNTER:
        return 1, ""
    if kind in (AggregationType.ONE_CDR, AggregationType.MIN, AggregationType.MAX):
        number = parse_number(value)
        if number is None:
            return None, f"is not a number: {str(value)[:40]!r}"
        if not storable(number):
            return (
                None,
                f"needs more than {INTEGER_DIGITS} integer digits or {TOTAL_DECIMAL_PLACES} decimal places",
            )
        return number, ""
    text = canonical_text(value)
    if text is None:
        return None, f"must be a string or a number of at most {KEY_MAX_BYTES} bytes"
    return ({text} if kind == AggregationType.UNIQUE_COUNT else text), ""


def records_of(payload: Any, max_records: int) -> tuple[list, list[str]]:
    """The records of an `update` body ({"record": [...]} or {"record": {...}}), or its problem."""
    if not isinstance(payload, dict) or "record" not in payload:
        return [], ['The body must be a JSON object {"record": [...]}']
    records = payload["record"]
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not records:
        return [], ["'record' must be a record (a JSON object) or a non-empty list of records"]
    if len(records) > max_records:
        return [], [f"A batch holds at most {max_records} records (got {len(records)}); split it"]
    return records, []


def dedup_values(records: list, dedup_field: str) -> tuple[list[str | None], list[str]]:
    """Each record's canonical dedupField value, or the problems (every record must carry one)."""
    values: list[str | None] = []
    problems: list[str] = []
    for index, record in enumerate(records):
        value = canonical_text(record.get(dedup_field)) if isinstance(record, dict) else None
        if value is None and len(problems) < MAX_PROBLEMS:
            problems.append(
                f"{ordinal(index)} lacks the dedupField {dedup_field!r} (a non-empty string or number)"
            )
        values.append(value)
    return values, problems


def parse_batch(
    records: list,
    *,
    primary_key: str,
    aggregates: list[str],
    aggregation_type: str,
    skip: frozenset[int] = frozenset(),
) -> tuple[Batch, list[str]]:
    """Records folded per key (those at the indexes in `skip` left out as duplicates), or the problems."""
    batch = Batch(records=len(records) - len(skip), duplicates=len(skip))
    counting = aggregation_type == AggregationType.MC_COUNTER
    summing = aggregation_type == AggregationType.ONE_CDR
    plain_amount = PLAIN_AMOUNT.fullmatch
    problems: list[str] = []
    tallies = batch.keys
    # Once a problem is found nothing will be applied, so the tallies may stay half-updated.
    for index, record in enumerate(records):
        if skip and index in skip:
            continue
        if problems and len(problems) >= MAX_PROBLEMS:
            break
        if not isinstance(record, dict):
            problems.append(f"{ordinal(index)} is not a JSON object")
            continue
        value = record.get(primary_key)
        # A text already tallied was already checked: whether a key is valid depends on its text alone.
        tally = tallies.get(value) if isinstance(value, str) else None
        if tally is None:
            key = canonical_text(value)
            if key is None:
                problems.append(
                    f"{ordinal(index)} lacks the primary key {primary_key!r} (a non-empty string or"
                    f" number, at most {KEY_MAX_BYTES} bytes)"
                )
                continue
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = KeyTally(0, {})
        tally.records += 1
        values = tally.values
        for name in aggregates:
            value = record.get(name)
            if value is None:
                continue
            if counting:  # the hot paths, inline
                values[name] = values.get(name, 0) + 1
                continue
            if summing and type(value) is str and plain_amount(value):
                current = values.get(name)
                values[name] = Decimal(value) if current is None else EXACT.add(current, Decimal(value))
                continue
            parsed, problem = parse_value(aggregation_type, value)
            if problem:
                problems.append(f"{ordinal(index)} field {name!r} {problem}")
                continue
            current = values.get(name)
            values[name] = parsed if current is None else combine(aggregation_type, current, parsed)
    return batch, problems[:MAX_PROBLEMS]


def _storable_keys(keys: set[str]) -> bool:
    """True when every text is a primary key as it stands, the checks of canonical_text() over a set
    at once; False also when a key is merely long enough to need measuring in bytes."""
    return (
        "" not in keys
        and not any(map(str.isspace, keys))
        and not UNSTORABLE.search("".join(keys))
        and max(map(len, keys)) * 4 <= KEY_MAX_BYTES
    )


def _plain_total(total: Decimal) -> str:
    """format_decimal() of a sum of plain amounts: its at most 46 digits are far within EXACT's
    precision, so normalising it would only strip the zeros this strips. str() writes such a sum in
    plain notation (and faster than format()) unless it is below 10**-6."""
    if total.is_zero():
        return "0"
    text = str(total)
    if "E" in text:
        text = format(total, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def plain_delta(
    records: list, *, primary_key: str, aggregates: list[str], aggregation_type: str, key_records: bool
) -> tuple[str, str] | None:
    """(delta JSON, key records JSON or "null") of the usual mcCounter or 1CDR batch, written directly
    in chain.dumps()'s form by bulk operations instead of record by record: every record an object,
    every primary key a storable string and, for 1CDR, every amount carried a plain amount string.
    None for any other batch, which parse_batch() then tallies (and names its problems)."""
    counting = aggregation_type == AggregationType.MC_COUNTER
    if not (counting or aggregation_type == AggregationType.ONE_CDR) or set(map(type, records)) != {dict}:
        return None
    get = dict.get
    keys = list(map(get, records, repeat(primary_key)))
    if set(map(type, keys)) != {str} or not _storable_keys(set(keys)):
        return None
    fields: dict[str, str] = {}  # key: its fields as JSON, in name order, without the braces
    for name in sorted(aggregates):
        values = list(map(get, records, repeat(name)))
        carriers = keys
        if None in values:  # a record without the field does not count
            carriers = [key for key, value in zip(keys, values, strict=True) if value is not None]
            values = [value for value in values if value is not None]
        if not values:
            continue
        label = encode_basestring_ascii(name) + ':"'
        if counting:
            column = {key: f'{label}{n}"' for key, n in Counter(carriers).items()}
        else:
            if set(map(type, values)) != {str}:
                return None
            lines = "\n".join(values)
            if lines.count("\n") != len(values) - 1 or not PLAIN_AMOUNT_LINES.fullmatch(lines):
                return None
            totals: dict[str, Decimal] = {}
            for key, amount in zip(carriers, map(Decimal, values), strict=True):
                total = totals.get(key)
                totals[key] = amount if total is None else EXACT.add(total, amount)
            column = {key: label + _plain_total(total) + '"' for key, total in totals.items()}
        if fields:
            for key, text in column.items():
                fields[key] = fields[key] + "," + text if key in fields else text
        else:
            fields = column
    # JSON as chain.dumps() writes it: sorted keys, no spaces, ASCII escapes.
    encode = encode_basestring_ascii
    delta = "{" + ",".join([f"{encode(key)}:{{{fields[key]}}}" for key in sorted(fields)]) + "}"
    if not key_records:
        return delta, "null"
    counts = Counter(keys)
    return delta, "{" + ",".join([f"{encode(key)}:{counts[key]}" for key in sorted(counts)]) + "}"
