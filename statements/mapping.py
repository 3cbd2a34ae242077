"""Column mappings: how someone who writes no code tells us how to read a report layout that no
import profile reads (a sales file in NEEDS_MAPPING).

A mapping names, for each of our fields, the file's column that feeds it (or a fixed value for
every line, e.g. the currency), the date order, the decimal separator and the values that mark
void/return rows or rows to skip. It *is* an import profile definition (`profile_fields`): its
columns are the header's names, and every mapped column is required, so the profile is matched
from then on by the header's fingerprint — the columns the mapping reads.

`sample` reads the first rows of the uploaded file as a table; `preview` reads the whole file
through the proposed mapping with the cleaning's own parser and returns the first cleaned lines,
the per-currency totals and every problem: a mapping with problems is never saved, so a wrong one
never becomes a processed file with wrong money.
"""

import csv
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from itertools import islice

from project import storage
from project.money import EXACT, exact_text
from statements import duplicates
from statements.cleaners import parse
from statements.cleaners.base import CLEAN_COLUMNS, Problem
from statements.cleaners.profiles import (
    DELIMITERS,
    FIELDS,
    NEEDED,
    ProfileSpec,
    builtin_profiles,
    header_keys,
)
from statements.cleaners.text import LineTooLong, open_text
from statements.models import SalesFile

SAMPLE_ROWS = 20  # rows of the file shown as a table, and cleaned lines shown in a preview
HEAD_LINES = 50  # lines searched for the header row (as the cleaning does)
PROBLEMS_SHOWN = 50
# The fields a mapping may fix to one value for every line (a report without that column: a
# performing-rights statement such as PRS for Music's has neither units nor, often, an artist).
FIXABLE = ("period", "dsp", "territory", "currency", "sale_type", "artist", "units")
PREVIEW_SLUG = "mapping_preview"


@dataclass
class Sample:
    """The first rows of a file as a table: its delimiter, header row (line number and names)."""

    delimiter: str
    header_line: int
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Mapping:
    """A proposed mapping, as the API and the page take it."""

    columns: dict[str, str]  # our field → the file's column header
    fixed: dict[str, str] = field(default_factory=dict)  # our field → the value of every line
    date_order: str = "mdy"
    decimal_separator: str = ""  # "" = by the delimiter, as the cleaning detects it
    void_values: list[str] = field(default_factory=list)
    skip_values: list[str] = field(default_factory=list)
    skip_markers: list[str] = field(default_factory=list)  # in any column: a row that is no sale


def sample(sales_file: SalesFile) -> Sample:
    """The uploaded file's header row and first SAMPLE_ROWS rows: the delimiter that splits a line
    into the most cells, and the first line with that many cells as the header."""
    stream = storage.open_stream(sales_file.upload_key)
    head: list[str] = []
    try:
        for line in islice(open_text(stream), HEAD_LINES + SAMPLE_ROWS):
            head.append(line)
    except LineTooLong:
        pass  # the table is the lines before it; the cleaning names the long line
    finally:
        stream.close()
    best = Sample(delimiter=",", header_line=1, columns=[])
    for delimiter in DELIMITERS:
        rows = _split(head, delimiter)
        widths = [len(cells) for cells in rows[:HEAD_LINES]]
        if widths and max(widths) > len(best.columns):
            index = widths.index(max(widths))
            best = Sample(delimiter, index + 1, rows[index], rows[index + 1 : index + 1 + SAMPLE_ROWS])
    best.rows = [row for row in best.rows if any(cell.strip() for cell in row)]
    return best


def _split(lines: list[str], delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return []


def suggested(columns: list[str]) -> dict[str, str]:
    """A first guess for each field: the first column a built-in profile names for it."""
    known = _known_names()
    guess: dict[str, str] = {}
    for name in columns:
        keys = header_keys(name)
        for our_field in FIELDS:
            if our_field not in guess and known[our_field].intersection(keys):
                guess[our_field] = name
                break
    return guess


@cache
def _known_names() -> dict[str, frozenset]:
    names: dict[str, set] = {name: set() for name in FIELDS}
    for spec in builtin_profiles():
        for name, headers in spec.columns.items():
            names[name].update(headers)
    return {name: frozenset(found) for name, found in names.items()}


def problems_of(mapping: Mapping, table: Sample) -> list[dict]:
    """What is wrong with a mapping before any line is read: unknown fields or columns, a needed
    field with neither a column nor a fixed value, a fixed value that is not one."""
    problems = []
    for name, column in mapping.columns.items():
        if name not in FIELDS:
            problems.append({"loc": ["columns", name], "msg": f"unknown field (fields: {', '.join(FIELDS)})"})
        elif column not in table.columns:
            problems.append({"loc": ["columns", name], "msg": f"the file has no column {column!r}"})
    for name, value in mapping.fixed.items():
        if name not in FIXABLE:
            problems.append({"loc": ["fixed", name], "msg": f"only {', '.join(FIXABLE)} can be fixed"})
        elif not value.strip():
            problems.append({"loc": ["fixed", name], "msg": "the fixed value is empty"})
        elif name == "units" and not value.strip().isdecimal():
            problems.append({"loc": ["fixed", name], "msg": "fixed units must be a whole number, e.g. 0"})
    used = Counter(mapping.columns.values())
    for name, column in mapping.columns.items():
        if used[column] > 1 and name in ("units", "revenue"):
            problems.append({"loc": ["columns", name], "msg": f"column {column!r} also feeds another field"})
    for name in NEEDED:
        # The period may come from the file name, as the cleaning does for every profile.
        if name not in mapping.columns and not mapping.fixed.get(name) and name != "period":
            problems.append({"loc": ["columns", name], "msg": "choose a column, or give a fixed value"})
    return problems


def profile_fields(mapping: Mapping, table: Sample) -> dict:
    """The ImportProfile fields of a mapping: every mapped column is required, so the profile
    reads exactly the files whose header has them all."""
    return {
        "columns": {name: [column] for name, column in mapping.columns.items()},
        "required": list(mapping.columns),
        "delimiter": table.delimiter,
        "decimal_separator": mapping.decimal_separator,
        "date_order": mapping.date_order,
        "defaults": {name: value.strip() for name, value in mapping.fixed.items()},
        "void_values": [v for v in mapping.void_values if v.strip()],
        "skip_values": [v for v in mapping.skip_values if v.strip()],
        "skip_markers": [v for v in mapping.skip_markers if v.strip()],
        # A mapping someone made for a header wins over a generic profile that also reads it.
        "priority": 10,
        "documentation": f"Mapped by hand from a file whose header is: {table.delimiter.join(table.columns)}"[
            :2000
        ],
    }


def preview(sales_file: SalesFile, mapping: Mapping, table: Sample | None = None) -> dict:
    """The file read through the proposed mapping: the table, the first cleaned lines, totals per
    currency (exact), counts, warnings and `problems` (the mapping's, then each rejected line's,
    then a fatal reason). An empty `problems` means the mapping may be saved."""
    table = table or sample(sales_file)
    result = {
        "table": {"header_line": table.header_line, "columns": table.columns, "rows": table.rows},
        "lines": [],
        "totals": {},
        "lines_read": 0,
        "lines_valid": 0,
        "lines_rejected": 0,
        "warnings": [],
        "problems": problems_of(mapping, table),
    }
    if result["problems"]:
        return result
    fields = profile_fields(mapping, table)
    try:
        spec = ProfileSpec.build(slug=PREVIEW_SLUG, name=PREVIEW_SLUG, **fields)
    except ValueError as exc:
        result["problems"].append({"loc": ["mapping"], "msg": str(exc)})
        return result
    stream = storage.open_stream(sales_file.upload_key)
    try:
        groups = _read(stream, spec, sales_file.name, result)
    finally:
        stream.close()
    # Before the mapping is saved and the file processed: the same sales already in another run.
    result["warnings"] += duplicates.looks_like(groups, sales_file=sales_file)
    return result


def _read(stream, spec: ProfileSpec, file_name: str, result: dict) -> duplicates.Groups:
    """Fill `result` with what the file reads as through `spec`; returns its sales in short
    (`duplicates.SNAPSHOT_KEY` tuples)."""
    _format, items, stats = parse(stream, profiles=[spec], profile=spec.slug, file_name=file_name)
    totals: dict[str, list] = {}
    groups: dict[tuple[str, str, str], list] = {}
    rejected: dict[str, int] = Counter()
    line_problems = []
    for item in items:
        if type(item) is Problem:
            if item.fatal:
                result["problems"].append({"loc": ["line", item.line], "msg": item.reason})
                break
            result["lines_rejected"] += 1
            rejected[_field_of(item.reason)] += 1
            if len(line_problems) < PROBLEMS_SHOWN:
                line_problems.append({"loc": ["line", item.line], "msg": item.reason})
            continue
        result["lines_valid"] += 1
        row = dict(zip(CLEAN_COLUMNS, item, strict=True))
        if len(result["lines"]) < SAMPLE_ROWS:
            result["lines"].append(row)
        into = totals.setdefault(row["currency"], [0, 0, Decimal(0)])
        into[0] += 1
        into[1] += int(row["units"])
        into[2] = EXACT.add(into[2], Decimal(row["revenue"]))
        group = groups.setdefault((row["dsp"], row["period"], row["currency"]), [0, Decimal(0)])
        group[0] += int(row["units"])
        group[1] = EXACT.add(group[1], Decimal(row["revenue"]))
    result["lines_read"] = stats.lines
    result["warnings"] = stats.warnings
    result["totals"] = {
        currency: {"lines": lines, "units": units, "revenue": exact_text(revenue)}
        for currency, (lines, units, revenue) in sorted(totals.items())
    }
    # Per field first (which column reads wrong, on how many lines), then each line.
    result["problems"] += [
        {"loc": ["columns", name], "msg": f"{count} line(s) do not read (see the lines below)"}
        for name, count in rejected.items()
        if name
    ]
    result["problems"] += line_problems
    if not result["problems"] and not result["lines_valid"]:
        result["problems"].append({"loc": ["lines"], "msg": "no sales line reads through this mapping"})
    return {(*key, units, revenue) for key, (units, revenue) in groups.items()}


def _field_of(reason: str) -> str:
    """The field a rejection's reason names first (`revenue 'abc' is not a number` → revenue)."""
    word = reason.split(" ", 1)[0].lower()
    return word if word in FIELDS else ""
