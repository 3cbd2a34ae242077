"""Pure parser of the customer's `Letture…` invoice files: bytes in, rows and problems out.

Nothing here touches the database, so it can be fuzzed and reused by the bulk loader, which
consumes `RecordParser.rows()` as a stream instead of building a list.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _

from ingestion.texts import CATALOGUE
from ingestion.texts import text as coded
from project.stored_text import Text

FILE_NAME_PATTERN = "Letture<YYYYMMDDHHMMSSmmm>_<N>.txt"
_FILE_NAME = re.compile(r"Letture(?P<stamp>[0-9]{17})_(?P<n>[0-9]{1,9})\.txt")
_is_value = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)").fullmatch
# A record in the common clean shape (ASCII digits, spaces only, value within range with at most
# two decimals). It takes one regex instead of the rule-by-rule checks, which give the same row
# for such a record (a property test compares both paths); anything else takes the full checks.
_clean_record = re.compile(
    r" *(6[0-9]{8}) *\| *([0-9]{1,9}) *\|([^|\x00]*)\| *([0-9]{1,12}(?:\.[0-9]{1,2})?) *"
).fullmatch
_CENT = Decimal("0.01")
_QUANTITY_LIMIT = 2**31  # the quantity column is a 32-bit integer
_VALUE_LIMIT = Decimal(10) ** 12  # NUMERIC(14, 2)
CATEGORY_MAX_LENGTH = 100


class InvalidFileName(ValueError):
    """The name is not `Letture<YYYYMMDDHHMMSSmmm>_<N>.txt`."""


@dataclass(frozen=True)
class FileName:
    name: str
    timestamp: datetime
    declared_records: int

    @property
    def business_date(self) -> date:
        return self.timestamp.date()


def parse_file_name(name: str) -> FileName:
    """Split a `Letture…` name into its timestamp and declared record count (N + 1)."""
    match = _FILE_NAME.fullmatch(name)
    if match is None:
        raise InvalidFileName(
            _("%(name)s is not a valid invoice file name; expected %(pattern)s")
            % {"name": repr(name), "pattern": FILE_NAME_PATTERN}
        )
    stamp = match["stamp"]
    try:
        timestamp = datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").replace(microsecond=int(stamp[14:]) * 1000)
    except ValueError:
        raise InvalidFileName(
            _("%(name)s has an impossible timestamp; expected %(pattern)s")
            % {"name": repr(name), "pattern": FILE_NAME_PATTERN}
        ) from None
    # The customer's system counts newlines and writes no final one, so N is one short.
    return FileName(name=name, timestamp=timestamp, declared_records=int(match["n"]) + 1)


def decode(content: bytes) -> str:
    """UTF-8 (optional BOM) when the bytes are valid UTF-8, Windows-1252 otherwise."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


# Control characters no text file holds (tab, LF and CR aside) and bytes cp1252 cannot decode.
_BINARY_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
BINARY_SHARE = 0.05  # ~15 % in images, archives and spreadsheets; none in the customer's files


def is_binary(text: str) -> bool:
    """Whether decoded `text` is binary data (an image, an archive, a spreadsheet) rather than
    records. A share, not one character: a stray NUL in a record stays that record's problem."""
    sample = text[: 1 << 16]
    return len(_BINARY_CHARACTER.findall(sample)) > BINARY_SHARE * len(sample)


def count_records(text: str) -> int:
    """Newlines + 1, tolerating one trailing newline."""
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def iter_lines(text: str, *, chunk_size: int = 1 << 20) -> Iterator[str]:
    """Every record of the text without its line ending (CRLF or LF); yields `count_records` items.

    Splits ~1 MB at a time: as fast as `str.split` without a list of every line of a big file.
    """
    body = text[:-1] if text.endswith("\n") else text
    start = 0
    while True:
        end = body.find("\n", start + chunk_size) if start + chunk_size < len(body) else -1
        lines = body[start : end if end >= 0 else None].replace("\r\n", "\n").split("\n")
        if lines[-1].endswith("\r"):  # a CR right before the chunk's cut or at the very end
            lines[-1] = lines[-1][:-1]
        yield from lines
        if end < 0:
            return
        start = end + 1


def normalise_category(spelling: str) -> str:
    """Trimmed, inner whitespace collapsed, case-folded: `" Health  &  Beauty"` → `health & beauty`."""
    return " ".join(spelling.split()).casefold()


# What `RecordParser.rows()` yields: plain tuples in Row's field order, because building a
# NamedTuple per record costs a tenth of a million-line import; `parse_records` returns Rows.
RowTuple = tuple[int, str, int, str, Decimal, tuple[int, ...]]


class Row(NamedTuple):
    line: int
    invoice_number: str
    quantity: int
    description: str
    value: Decimal
    categories: tuple[int, ...]  # refs: RecordParser.keys[ref - 1] is the normalised key


@dataclass(frozen=True)
class Problem:
    """An invalid record: its English reason and the same as a code (ingestion.texts)."""

    line: int
    reason: str
    text: Text | None = field(default=None, compare=False)

    @classmethod
    def of(cls, line: int, reason: Text) -> "Problem":
        return cls(line, CATALOGUE.english(reason), reason)

    def as_dict(self) -> dict:
        coded = {"code": self.text.code, "params": self.text.params} if self.text else {}
        return {"line": self.line, "reason": self.reason, **coded}


class _Invalid(Exception):
    """A record that starts with 6 but breaks a rule; carries the reason as a code."""

    def __init__(self, code: str, **params) -> None:
        self.text = coded(code, **params)
        super().__init__(CATALOGUE.english(self.text))


@dataclass
class RecordParser:
    """Parses records one by one, tallying ignored ones and problems as it goes."""

    records: int = 0
    ignored: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Normalised key → first spelling seen; `keys[ref - 1]` is the key a row's ref points to.
    categories: dict[str, str] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    _indexes: dict[str, int] = field(default_factory=dict)
    _piece_refs: dict[str, int] = field(default_factory=dict)  # raw piece → ref, the hot-path cache

    def rows(self, text: str) -> Iterator[RowTuple]:
        """Yield the valid rows of `text` (as tuples in Row's field order); ignored records and
        problems are tallied on `self`."""
        problems, build, category_refs = self.problems, self._row, self._category_refs  # a hot loop
        number = 0
        for number, line in enumerate(iter_lines(text), start=1):
            clean = _clean_record(line)
            if clean is not None:
                invoice_number, quantity, description, value = clean.groups()
                try:
                    yield (
                        number,
                        invoice_number,
                        int(quantity),
                        description,
                        Decimal(value),
                        category_refs(description),
                    )
                except _Invalid as problem:
                    problems.append(Problem.of(number, problem.text))
                continue
            if not line or line.isspace():
                problems.append(Problem.of(number, coded("blank_line")))
                continue
            fields = line.split("|")
            invoice_number = fields[0].strip()
            if not invoice_number.startswith("6"):
                self.ignored += 1
                continue
            try:
                yield build(number, invoice_number, fields, line)
            except _Invalid as problem:
                problems.append(Problem.of(number, problem.text))
        self.records = number

    def _row(self, number: int, invoice_number: str, fields: list[str], line: str) -> RowTuple:
        if len(fields) != 4:
            raise _Invalid("field_count", found=len(fields))
        if len(invoice_number) != 9:
            raise _Invalid("invoice_number_length", value=repr(invoice_number))
        if "\x00" in line:
            raise _Invalid("nul_character")
        quantity_text = fields[1].strip()
        digits = quantity_text[1:] if quantity_text[:1] in ("+", "-") else quantity_text
        if not (digits.isascii() and digits.isdigit()):
            raise _Invalid("quantity_not_integer", value=repr(quantity_text))
        quantity = int(quantity_text)
        if len(digits) > 9 and not -_QUANTITY_LIMIT < quantity < _QUANTITY_LIMIT:
            raise _Invalid("quantity_out_of_range", value=repr(quantity_text))
        value_text = fields[3].strip()
        if not _is_value(value_text):
            raise _Invalid("value_not_number", value=repr(value_text))
        value = Decimal(value_text)
        point = value_text.find(".")
        if point >= 0 and len(value_text) - point > 3:
            cents = value.quantize(_CENT)
            # Rounding 1.005 would change the customer's figure silently; trailing zeros (1.500) are fine.
            if cents != value:
                raise _Invalid("value_decimals", value=repr(value_text))
            value = cents
        if len(value_text) > 12 and abs(value) >= _VALUE_LIMIT:  # shorter texts cannot reach 10**12
            raise _Invalid("value_out_of_range", value=repr(value_text))
        description = fields[2]
        return number, invoice_number, quantity, description, value, self._category_refs(description)

    def _category_refs(self, description: str) -> tuple[int, ...]:
        pieces = description.split(",")
        known = self._piece_refs
        try:
            refs = [known[piece] for piece in pieces]
        except KeyError:
            refs = self._register(pieces)
        if len(refs) == 1:
            return (refs[0],) if refs[0] else ()
        unique = tuple(dict.fromkeys(refs))  # duplicates in a row count once
        return tuple(ref for ref in unique if ref) if 0 in unique else unique

    def _register(self, pieces: list[str]) -> list[int]:
        """Refs of pieces not seen before; all are checked before any is registered, so an invalid
        row adds no category. An empty piece has ref 0."""
        spellings = [" ".join(piece.split()) for piece in pieces]
        for spelling in spellings:
            if max(len(spelling), len(spelling.casefold())) > CATEGORY_MAX_LENGTH:
                raise _Invalid("category_too_long", value=repr(spelling[:20]), limit=CATEGORY_MAX_LENGTH)
        refs = []
        for piece, spelling in zip(pieces, spellings, strict=True):
            key = normalise_category(spelling)
            if spelling and key not in self._indexes:
                self.categories[key] = spelling
                self.keys.append(key)
                self._indexes[key] = len(self.keys)
            refs.append(self._piece_refs.setdefault(piece, self._indexes[key] if spelling else 0))
        return refs


@dataclass(frozen=True)
class ParseResult:
    records: int
    rows: list[Row]
    ignored: int
    problems: list[Problem]
    categories: dict[str, str]


def parse_records(content: bytes) -> ParseResult:
    """Parse a whole file in memory: every record is a row, an ignored record or a problem."""
    parser = RecordParser()
    rows = [Row._make(row) for row in parser.rows(decode(content))]
    return ParseResult(
        records=parser.records,
        rows=rows,
        ignored=parser.ignored,
        problems=parser.problems,
        categories=dict(parser.categories),
    )
