"""The set-based import of a plain CSV/TSV report: PostgreSQL reads, cleans and loads its lines,
Python checks each distinct value once with the cleaner's own rules.

A file qualifies when it is plain: UTF-8 (already NFC) without a quote, a NUL, a lone carriage
return or an over-long line, read through an import profile with no fallback columns, every line
with the header's number of cells and no skip marker, and every ISRC, UPC, title, release and commercial model
already in its cleaned form. Then:

    1. COPY      the lines after the header into a temporary table of text cells, numbered in
                 file order (identity column + the header's line)
    2. values    the distinct raw values of the cached columns (period, DSP, artist, territory,
                 currency, sale type, void) and the odd units/revenue texts go through
                 `cleaners.delimited`'s own checks; the results are joined back as tables
    3. problems  lines a check rejected come back with their cells and become the same Problems
                 as in the Python cleaner (`delimited.line_problem`)
    4. import    one INSERT … SELECT into statements_salesline whose RETURNING rows are the
                 normalised CSV (COPY … TO STDOUT), byte for byte what the Python path writes

Anything else — a totals row, a header repeated, a kept ISRC/UPC warning, a number PostgreSQL would
print differently — is a quirk: the savepoint is rolled back and the caller cleans the file in
Python. `tests/statements/test_vectorised.py` runs both paths over the real corpus and compares.
"""

import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import psycopg2
from django.db import DatabaseError, connection, transaction
from psycopg2.extras import execute_values

from statements.cleaners import CLICKNCLEAR, DDEX_DSR, DETECT_LINES, delimited
from statements.cleaners import profiles as rules
from statements.cleaners.base import CLEAN_COLUMNS, Problem, Reject, Stats
from statements.cleaners.clicknclear import looks_like_clicknclear
from statements.cleaners.dsr import looks_like_dsr
from statements.cleaners.profiles import ProfileSpec

STAGING = "statements_staging"
CHUNK = 1 << 20
# The columns whose distinct values are checked in Python (`delimited.value_checks`).
CACHED = ("sale_type", "period", "dsp", "artist", "territory", "currency", "void")
# The order the Python cleaner checks a line in: the first rejection is the line's reason.
REASONS = ("sale_type", "period", "dsp", "artist", "territory", "currency", "units", "revenue")
# Values the Python cleaner keeps as written (its fast paths), as PostgreSQL regular expressions.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]+)?")


def _text_as_written(limit: int) -> Callable[[str], bool]:
    return lambda value: not value or (value.isprintable() and value.strip() == value and len(value) <= limit)


# Values the Python cleaner keeps as written (its fast paths in `delimited._rows`), by field.
KEPT = {
    "isrc": lambda value: not value or bool(rules.ISRC_PATTERN.fullmatch(value)),
    "upc": lambda value: not value or (value.isdigit() and value.isascii() and 8 <= len(value) <= 14),
    "title": _text_as_written(rules.MAX_TEXT["title"]),
    "release": _text_as_written(rules.MAX_TEXT["release"]),
    "commercial_model": _text_as_written(rules.MAX_TEXT["commercial_model"]),
}


def _units_as_written(value: str) -> bool:
    return value.isdigit() and value.isascii() and len(value) < 19


def _revenue_as_written(value: str) -> bool:
    return bool(_PLAIN_DECIMAL.fullmatch(value))


def _printed_otherwise(value: str) -> bool:
    return not _CANONICAL.fullmatch(value) or bool(_NEGATIVE_ZERO.fullmatch(value))


# Numbers PostgreSQL prints back as written (the normalised CSV is its RETURNING rows).
_CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
_NEGATIVE_ZERO = re.compile(r"-0(\.0+)?")
_SKIP = -1  # row kind of a line that is no sale (the profile's skip values)


class _NotPlain(Exception):
    """The file has a quirk only the Python cleaner reads: the savepoint is rolled back."""


def staged(sales_file, profiles: list[ProfileSpec], stream) -> "PlainFile | None":
    """The file staged and checked set-based (steps 1-3, in the caller's transaction), or None,
    with nothing left behind, when it is not plain (`stream` is then consumed: open it again)."""
    try:
        with transaction.atomic():
            plain = PlainFile(sales_file, profiles, stream)
            plain.stage()
    except (_NotPlain, DatabaseError, psycopg2.Error):
        # A COPY that stops at a line without the header's cells raises psycopg2's own error.
        return None
    return plain


class PlainFile:
    """One plain file on its way through PostgreSQL: its layout, what the checks found (`stats`,
    `problems`), the SQL that loads it."""

    def __init__(self, sales_file, profiles: list[ProfileSpec], stream):
        self.sales_file = sales_file
        self.stats = Stats()
        self.source = _PlainBytes(stream)
        head = self.source.head(delimited.MAX_PREAMBLE)
        forced = sales_file.profile or None
        detect = head[:DETECT_LINES]
        if forced in (DDEX_DSR, CLICKNCLEAR) or (
            forced is None and (looks_like_dsr(detect) or looks_like_clicknclear(detect))
        ):
            raise _NotPlain
        found = delimited.read_layout(
            head, self.stats, profiles=profiles, forced=forced, file_name=sales_file.name
        )
        if type(found) is Problem:
            raise _NotPlain
        self.layout, self.defaults = found
        if self.layout.fallbacks or self.layout.spec.skip_markers:
            raise _NotPlain
        self.source.skip(self.layout.line)
        self.cell = delimited.field_cells(self.layout)
        self.rejects: list[Reject] = []
        self.problems: list[Problem] = []

    def stage(self) -> None:
        """Steps 1-3: the lines in the staging table, the value tables, the rejected lines'
        Problems; raises _NotPlain at the first quirk."""
        width = len(self.layout.names)
        cells = [f"c{n}" for n in range(width)]
        with connection.cursor() as cursor:
            # Hash tables and the sort in line order fit in memory; a few joins of a million
            # rows gain nothing from JIT compilation.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGING} (id bigint GENERATED ALWAYS AS IDENTITY, "
                + ", ".join(f"{c} text" for c in cells)
                + ")"
            )
            delimiter = "E'\\t'" if self.layout.delimiter == "\t" else f"'{self.layout.delimiter}'"
            cursor.copy_expert(
                f"COPY {STAGING} ({', '.join(cells)}) FROM STDIN WITH (FORMAT csv, DELIMITER {delimiter}, "
                f"FORCE_NOT_NULL ({', '.join(cells)}))",
                self.source,
                size=CHUNK,
            )
            staged = cursor.rowcount
            if self.source.error is not None:
                raise self.source.error
            if self.source.quirk or staged != self.source.lines:
                raise _NotPlain
            self.stats.lines = self.layout.line + staged
            # Fields without a column read their default from cells after the row's own, as in
            # the Python cleaner; a constant default adds no data to the table.
            for name, value in zip(rules.FIELDS, delimited.default_cells(self.defaults), strict=True):
                if self.cell[name] < width:
                    continue
                cursor.execute(
                    f"ALTER TABLE {STAGING} ADD COLUMN c{self.cell[name]} text NOT NULL DEFAULT %s", [value]
                )
            self._value_tables(cursor)
            self.problems = self._problems(cursor)
            self._unknown_territories(cursor)

    def _distinct(self, cursor) -> dict[str, list[str]]:
        """The distinct raw values of every checked field, by field: one scan, a hashed grouping
        set per column."""
        names = (*CACHED, *KEPT, "units", "revenue")
        columns = list(dict.fromkeys(f"c{self.cell[name]}" for name in names))
        cursor.execute(
            f"SELECT {', '.join(columns)}, {', '.join(f'grouping({c})' for c in columns)} FROM {STAGING} "  # noqa: S608 (names are ours)
            f"GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in columns)})"
        )
        values: dict[str, list[str]] = {column: [] for column in columns}
        width = len(columns)
        for row in cursor.fetchall():
            position = row[width:].index(0)
            values[columns[position]].append(row[position])
        return {name: values[f"c{self.cell[name]}"] for name in names}

    def _value_tables(self, cursor) -> None:
        """Each distinct value through the Python cleaner's checks, as tables to join: the cached
        columns' normalised values, the units and revenue texts it parses (the others are kept as
        written); an ISRC, UPC or text it would change is a quirk."""
        distinct = self._distinct(cursor)
        for name in KEPT:
            if not all(map(KEPT[name], distinct[name])):
                raise _NotPlain
        checks = delimited.value_checks(self.layout, self.defaults)
        for name in CACHED:
            check = checks[name]
            if name == "sale_type":
                check = _sale_kind(check)
            elif name == "void":
                check = _flag(check)
            self._table(cursor, name, {raw: self._checked(check, raw) for raw in distinct[name]})
        if "" in distinct["units"]:
            raise _NotPlain  # units left empty beside an amount count as 0, with a warning
        decimal_comma = self.layout.decimal_comma
        for name, parse, as_written in (
            ("units", rules.units, _units_as_written),
            ("revenue", rules.revenue, _revenue_as_written),
        ):
            if any(_printed_otherwise(raw) for raw in distinct[name] if as_written(raw)):
                raise _NotPlain  # PostgreSQL would print it back otherwise (007, -0.0)
            check = partial(_number, parse, decimal_comma)
            odd = [raw for raw in distinct[name] if not as_written(raw)]
            self._table(cursor, name, {raw: self._checked(check, raw) for raw in odd})

    def _checked(self, check: Callable[[str], object], raw: str) -> tuple:
        """(value, source type, row kind, reason index) of a raw value; a totals label is a quirk."""
        try:
            value = check(raw)
        except Reject as exc:
            if delimited.rejection(exc, [], self.layout) != delimited.PROBLEM:
                raise _NotPlain from None
            self.rejects.append(exc)
            return (None, None, None, len(self.rejects) - 1)
        return (*value, None) if type(value) is tuple else (value, None, None, None)

    def _table(self, cursor, name: str, values: dict[str, tuple]) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}_{name}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING}_{name} (raw text PRIMARY KEY, value text, source text, kind text, reason int)"
        )
        if values:
            execute_values(
                cursor,
                f"INSERT INTO {STAGING}_{name} VALUES %s",  # noqa: S608 (names are ours)
                [(raw, *result) for raw, result in values.items()],
            )

    def _joins(self) -> str:
        joins = [
            f"{'LEFT ' if name in ('units', 'revenue') else ''}JOIN {STAGING}_{name} AS {name} "
            f"ON {name}.raw = s.c{self.cell[name]}"
            for name in (*CACHED, "units", "revenue")
        ]
        return f"FROM {STAGING} AS s " + " ".join(joins) + f" WHERE sale_type.kind <> '{_SKIP}'"

    def _reason(self, names=REASONS) -> str:
        return f"COALESCE({', '.join(f'{name}.reason' for name in names)})"

    def _problems(self, cursor) -> list[Problem]:
        """The rejected lines, as the Python cleaner reports them."""
        if not self.rejects:
            return []
        width = len(self.layout.names)
        cursor.execute(
            f"SELECT s.id, {self._reason()}, {', '.join(f's.c{n}' for n in range(width))} {self._joins()} "
            f"AND {self._reason()} IS NOT NULL ORDER BY s.id"
        )
        tail = delimited.default_cells(self.defaults)
        problems = []
        for number, reason, *cells in cursor.fetchall():
            exc = self.rejects[reason]
            if delimited.rejection(exc, cells, self.layout) != delimited.PROBLEM:
                raise _NotPlain
            problems.append(
                delimited.line_problem(
                    self.layout.line + number, exc, cells + tail, self.layout, self.defaults
                )
            )
        return problems

    def _unknown_territories(self, cursor) -> None:
        """The warning per territory that names no country, counted as the Python cleaner does:
        over the lines that read up to the territory, in order of first occurrence."""
        cursor.execute(
            f"SELECT 1 FROM {STAGING}_territory WHERE value = %s LIMIT 1",  # noqa: S608
            [rules.UNKNOWN_TERRITORY],
        )
        if cursor.fetchone() is None:
            return
        before = REASONS[: REASONS.index("territory")]
        cursor.execute(
            f"SELECT territory.raw, count(*), min(s.id) {self._joins()} AND territory.value = %s "
            f"AND {self._reason(before)} IS NULL GROUP BY territory.raw ORDER BY 3",
            [rules.UNKNOWN_TERRITORY],
        )
        kept: Counter[str] = Counter()
        for raw, count, _ in cursor.fetchall():
            kept[rules.unknown_territory(raw)] += count
        self.stats.warnings += [f"{what} on {count} line(s)" for what, count in kept.items()]

    def amounts(self) -> dict[str, Decimal]:
        """The exact sum of the imported lines' amounts per currency; the staging tables go."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT currency, sum(revenue) FROM statements_salesline WHERE sales_file_id = %s "
                "GROUP BY currency",
                [self.sales_file.pk],
            )
            sums = dict(cursor.fetchall())
            for name in ("", *(f"_{name}" for name in (*CACHED, "units", "revenue"))):
                cursor.execute(f"DROP TABLE {STAGING}{name}")
        return sums

    def load(self, cleaned) -> int:
        """Step 4: the lines into statements_salesline, their normalised CSV into `cleaned`."""
        cell = self.cell

        def negated(number: str) -> str:
            return (
                f"CASE WHEN {void} AND left({number}, 1) <> '-' AND ({number})::numeric <> 0 "
                f"THEN '-' || {number} ELSE {number} END"
            )

        void = "sale_type.kind = '1'"
        if "void" in self.layout.columns:
            void = f"({void} OR void.value = 'true')"
        values = {
            "line_number": f"s.id + {self.layout.line}",
            "period": "period.value",
            "dsp": "dsp.value",
            "artist": "artist.value",
            "isrc": f"s.c{cell['isrc']}",
            "upc": f"s.c{cell['upc']}",
            "title": f"s.c{cell['title']}",
            "territory": "territory.value",
            "units": negated(f"COALESCE(units.value, s.c{cell['units']})") + "::bigint",
            "revenue": negated(f"COALESCE(revenue.value, s.c{cell['revenue']})") + "::numeric",
            "currency": "currency.value",
            "sale_type": "sale_type.value",
            "use_type": "sale_type.source",
            "commercial_model": f"s.c{cell['commercial_model']}",
            "release": f"s.c{cell['release']}",
        }
        returning = ", ".join(
            f"NULLIF({name}, '') AS {name}" if name in _TEXTS else name for name in CLEAN_COLUMNS
        )
        sql = (
            f"COPY (INSERT INTO statements_salesline (sales_file_id, {', '.join(CLEAN_COLUMNS)}) "
            f"SELECT {int(self.sales_file.pk)}, {', '.join(values[name] for name in CLEAN_COLUMNS)} "
            f"{self._joins()} AND {self._reason()} IS NULL ORDER BY s.id RETURNING {returning}) "
            "TO STDOUT WITH (FORMAT csv, HEADER true)"
        )
        with connection.cursor() as cursor:
            cursor.copy_expert(sql, cleaned, size=CHUNK)
            return cursor.rowcount


# Text columns of the normalised CSV: an empty one is written as nothing, as csv.writer does.
_TEXTS = frozenset(CLEAN_COLUMNS) - {"line_number", "units", "revenue"}


def _sale_kind(check: Callable[[str], tuple]) -> Callable[[str], tuple]:
    """The sale-type check as (our type, the source's type, row kind: "1" a reversal, "0" a
    sale, _SKIP no sale)."""

    def kind(raw: str) -> tuple:
        our_type, use_type, row_kind = check(raw)
        sale, void = delimited.is_sale(row_kind)
        return our_type, use_type, str(1 if void else 0 if sale else _SKIP)

    return kind


def _number(parse: Callable[[str, bool], str], decimal_comma: bool, raw: str) -> str:
    """A units or revenue text the Python cleaner parses; one PostgreSQL would print otherwise
    (`-0`) is a quirk."""
    value = parse(raw, decimal_comma)
    if _printed_otherwise(value):
        raise _NotPlain
    return value


def _flag(check: Callable[[str], bool]) -> Callable[[str], str]:
    return lambda raw: "true" if check(raw) else "false"


class _PlainBytes:
    """The file's bytes for COPY, after its header, checked on the way: at the first quirk (a
    quote, a NUL, a lone carriage return, bytes that are not UTF-8 in NFC, a line over the csv
    module's field limit) it stops early and names it in `quirk`. A storage error is kept in
    `error`. `lines` counts the lines passed on."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = b""
        self.ended = False
        self.quirk = ""
        self.error: Exception | None = None
        self.lines = 0
        self.limit = csv.field_size_limit()
        self.first = True

    def _fill(self) -> bool:
        if self.ended:
            return False
        chunk = self.stream.read(CHUNK)
        if self.first:
            self.first = False
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")  # utf-8-sig, as the Python cleaner
        if not chunk:
            self.ended = True
            return False
        self.buffer += chunk
        return True

    def head(self, count: int) -> list[str]:
        """The first `count` lines as text (with their line ends), for the layout."""
        while self.buffer.count(b"\n") < count and len(self.buffer) <= count * self.limit and self._fill():
            pass
        lines = self.buffer.split(b"\n")[:count]
        ends = [line + b"\n" for line in lines[:-1]]
        last = lines[-1] + (b"\n" if self.buffer.count(b"\n") >= len(lines) else b"")
        head = [*ends, last] if last else ends
        if self._odd(b"".join(head)):
            raise _NotPlain
        return [line.decode() for line in head]

    def skip(self, lines: int) -> None:
        """Leave out the first `lines` lines (the header and what is above it)."""
        for _ in range(lines):
            end = self.buffer.find(b"\n")
            self.buffer = self.buffer[end + 1 :] if end >= 0 else b""

    def _odd(self, part: bytes) -> str:
        if b"\x00" in part or part.count(b"\r") != part.count(b"\r\n"):
            return "control characters"
        if not part.isascii():
            try:
                text = part.decode()
            except UnicodeDecodeError:
                return "not UTF-8"
            if not unicodedata.is_normalized("NFC", text):
                return "not NFC"
        if len(max(part.split(b"\n"), key=len)) > self.limit:
            return "a long line"
        return ""

    def read(self, size: int = -1) -> bytes:
        """The next complete lines (about CHUNK bytes); b"" at the end or at a quirk."""
        if self.quirk or self.error is not None:
            return b""
        try:
            while not self.ended and (len(self.buffer) < CHUNK or b"\n" not in self.buffer):
                if len(self.buffer) > self.limit + CHUNK:
                    self.quirk = "a long line"
                    return b""
                self._fill()
        except Exception as exc:  # the storage's: raised by the caller once COPY has stopped
            self.error = exc
            return b""
        cut = len(self.buffer) if self.ended else self.buffer.rfind(b"\n") + 1
        part, self.buffer = self.buffer[:cut], self.buffer[cut:]
        if not part:
            return b""
        self.quirk = "a quote" if b'"' in part else self._odd(part)
        if self.quirk:
            return b""
        self.lines += part.count(b"\n") + (not part.endswith(b"\n"))
        return part
