"""CSV/TSV sales reports, read through import profiles.

`parse_delimited` finds the header row (after a preamble such as Apple's `Start Date` … `Currency`
lines), picks the import profile whose columns the header names (or the one the user forced),
reads the preamble's `key<TAB>value` lines, and turns every following line into a `Row` or a
`Problem` with its physical line number. Totals and carried-balance rows inside a report and rows
a profile marks as no sale (Bandcamp payouts) are structural lines, never sales; the report's own
totals go to `stats.declared`. A summary table after the sales (a short row naming header columns,
then its rows: Apple's table by country) is structural too, and named in a warning.

Speed: a report repeats a handful of periods, DSPs, artists, territories and sale types on a
million lines, so each distinct raw value of those columns is validated once and its normalised
form remembered; numbers take a plain-text fast path and only odd ones are parsed.
"""

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import chain, islice, repeat
from operator import itemgetter

from statements.cleaners import profiles as rules
from statements.cleaners.base import Problem, Reject, Row, Stats
from statements.cleaners.profiles import DELIMITERS, ProfileSpec, header_keys, normal_name
from statements.cleaners.text import MAX_LINE, LineTooLong, failing
from statements.texts import fatal, nested, reject, rejected

MAX_PREAMBLE = 50  # lines searched for the header row
CACHE_SIZE = 50_000  # distinct values remembered per column
BATCH = 2_000  # lines read at once, cleaned column by column when plain (`_PlainLines`)
# A revenue PostgreSQL reads exactly as written (any number of decimals: the column is an
# unconstrained numeric); others take the slow path.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]+)?")
_NUMERIC_CELL = re.compile(r"[-+(]?[$€£]?\s*[0-9][0-9.,' ]*\)?-?")
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
_SHOWN = 200
_TRAILER_SHOWN = 12  # trailer lines quoted in the warning  # characters of a header quoted in a message
# Money is never read from another column: its currency would be the wrong one.
_NO_FALLBACK = frozenset(("revenue", "currency", "void"))
# Row kinds from the sale-type column.
_SALE, _VOID, _SKIP = 0, 1, 2


class _TotalsRow(Reject):
    """A key column holds a totals or balance label: the row sums others up."""


@dataclass
class Layout:
    """Where a report's header is and which of its columns feed our fields."""

    spec: ProfileSpec
    delimiter: str
    line: int  # physical line of the header (1-based)
    names: list[str]
    columns: dict[str, int]
    # field → further columns read when the row's cell of the first one is empty
    fallbacks: dict[str, tuple[int, ...]]

    @property
    def decimal_comma(self) -> bool:
        """Whether numbers are written with a decimal comma (the profile's, or by the delimiter)."""
        spec = self.spec
        return spec.decimal_separator == "," if spec.decimal_separator else self.delimiter in (";", "\t", "|")


def parse_delimited(
    lines: Iterator[str],
    stats: Stats,
    *,
    profiles: Sequence[ProfileSpec],
    forced: str | None = None,
    file_name: str = "",
    blocks: bool = False,
    columnar: bool = True,
) -> Iterator[Row | list[Row] | Problem]:
    """Rows and problems of a delimited report in file order; `stats.detail` is the profile slug.

    The layout is detected when this is called (it reads up to MAX_PREAMBLE lines), the rows when
    the result is iterated. `forced` is a profile slug that skips detection. An unknown layout is
    one fatal Problem naming the header row seen and the profiles tried; so is a line over the
    length `open_text` allows, at that line. With `blocks`, the rows of a batch of plain lines
    come as one list; `columnar=False` cleans every line on its own (the reference the batches
    are tested against).
    """
    lines = iter(lines)
    head: list[str] = []
    try:
        for line in lines:
            head.append(line)
            if len(head) == MAX_PREAMBLE:
                break
    except LineTooLong as exc:
        if not head:
            return iter([fatal(1, "line_too_long", limit=MAX_LINE >> 20)])
        lines = failing(exc)  # the layout is told by the lines before it
    stats.lines = len(head)
    found = read_layout(head, stats, profiles=profiles, forced=forced, file_name=file_name)
    if type(found) is Problem:
        return iter([found])
    layout, defaults = found
    results = _rows(chain(head[layout.line :], lines), stats, layout, defaults, columnar=columnar)
    return results if blocks else _flat(results)


def _flat(results: Iterator[Row | list[Row] | Problem]) -> Iterator[Row | Problem]:
    for item in results:
        if type(item) is list:
            yield from item
        else:
            yield item


def read_layout(
    head: list[str],
    stats: Stats,
    *,
    profiles: Sequence[ProfileSpec],
    forced: str | None = None,
    file_name: str = "",
) -> "tuple[Layout, dict[str, str]] | Problem":
    """The layout of a report and the values of fields without a column (`_defaults`), read from
    its first lines (`head`), or the fatal Problem saying why it cannot be read."""
    if not head:
        return fatal(1, "file_empty")
    if head[0].startswith("PK\x03\x04") or "\x00" in head[0]:
        return fatal(1, "binary_content")
    candidates = sorted(profiles, key=lambda spec: -spec.priority)
    if forced is not None:
        candidates = [spec for spec in profiles if spec.slug == forced]
        if not candidates:
            known = ", ".join(spec.slug for spec in profiles) or "none"
            return fatal(1, "unknown_profile", profile=repr(forced), known=known)
    layout = _find_header(head, candidates)
    if layout is None:
        problem, width = _unknown_layout(head, candidates)
        stats.unknown_layout = forced is None and width >= 2
        return problem
    spec = layout.spec
    stats.detail = spec.slug
    found, problem = _preamble(head[: layout.line - 1], layout)
    if problem is not None:
        return problem
    stats.structural += layout.line
    defaults = _defaults(layout, found, file_name)
    missing = [name for name in rules.NEEDED if name not in layout.columns and not defaults.get(name)]
    if missing:
        return fatal(
            layout.line,
            "profile_columns_missing",
            profile=repr(spec.slug),
            missing=", ".join(missing),
            line=layout.line,
        )
    return layout, defaults


# --- header, preamble and defaults --------------------------------------------------------------


def _cells(line: str, delimiter: str) -> list[str]:
    """The cells of one line read as a header or preamble line ([] if the csv module cannot)."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # e.g. a field over its limit: no header
        return []


def _find_header(head: list[str], candidates: list[ProfileSpec]) -> Layout | None:
    delimiters = sorted({spec.delimiter for spec in candidates if spec.delimiter} or DELIMITERS)
    if any(not spec.delimiter for spec in candidates):
        delimiters = list(DELIMITERS)
    for number, line in enumerate(head, start=1):
        if not line.strip():
            continue
        best, best_score = None, None
        for delimiter in delimiters:
            names = _cells(line, delimiter)
            if len(names) < 2:
                continue
            lookup: dict[str, int] = {}
            keys = [header_keys(name) for name in names]
            for index, (full, _) in enumerate(keys):
                lookup.setdefault(full, index)
            for index, (_, bare) in enumerate(keys):
                lookup.setdefault(bare, index)
            for spec in candidates:
                if spec.delimiter and spec.delimiter != delimiter:
                    continue
                matched = _match(spec, lookup)
                if matched is None:
                    continue
                columns, fallbacks = matched
                score = (spec.priority, len(columns))
                if best_score is None or score > best_score:
                    best = Layout(spec, delimiter, number, names, columns, fallbacks)
                    best_score = score
        if best is not None:
            return best
    return None


def _match(
    spec: ProfileSpec, lookup: dict[str, int]
) -> tuple[dict[str, int], dict[str, tuple[int, ...]]] | None:
    """(field → column, field → fallback columns) when the header has every required field."""
    columns: dict[str, int] = {}
    fallbacks: dict[str, tuple[int, ...]] = {}
    for name, headers in spec.columns.items():
        found = list(dict.fromkeys(lookup[h] for h in headers if h in lookup))
        if found:
            columns[name] = found[0]
            if len(found) > 1 and name not in _NO_FALLBACK:
                fallbacks[name] = tuple(found[1:])
    if any(name not in columns for name in spec.required):
        return None
    return columns, fallbacks


def _unknown_layout(head: list[str], candidates: list[ProfileSpec]) -> tuple[Problem, int]:
    """The fatal problem naming the most header-like line read and the profiles tried, and that
    line's number of cells."""
    number, line = max(
        ((n, text) for n, text in enumerate(head, start=1) if text.strip()),
        key=lambda item: max(len(_cells(item[1], d)) for d in DELIMITERS),
        default=(1, head[0]),
    )
    width = max(len(_cells(line, d)) for d in DELIMITERS)
    shown = line.strip()
    shown = shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "…"
    tried = ", ".join(spec.slug for spec in candidates) or "none"
    return fatal(number, "unknown_layout", line=number, shown=repr(shown), tried=tried), width


def _preamble(lines: list[str], layout: Layout) -> tuple[dict[str, str], Problem | None]:
    """Our fields given by `key<delimiter>value` preamble lines (or a line of keys followed by a
    line of values, as Spotify's reports start), validated."""
    pairs: list[tuple[int, str, str]] = []
    rows = [_preamble_cells(line, layout.delimiter) for line in lines]
    number = 0
    while number < len(rows):
        cells = rows[number]
        number += 1
        following = rows[number] if number < len(rows) else []
        if len(cells) >= 3 and len(following) == len(cells):
            number += 1
            pairs += [(number, key, value) for key, value in zip(cells, following, strict=True)]
        elif len(cells) == 1 and ":" in cells[0]:
            key, _, value = cells[0].partition(":")
            pairs.append((number, key, value.strip()))
        elif len(cells) >= 2:
            pairs.append((number, cells[0], next((c for c in cells[1:] if c), "")))
    found: dict[str, str] = {}
    spec = layout.spec
    for number, key, value in pairs:
        name = spec.preamble.get(normal_name(key))
        if name is None or not value or name in found:
            continue
        try:
            found[name] = _check_default(name, value, spec)
        except Reject as exc:
            return found, fatal(number, "preamble_invalid", error=nested(exc))
    return found, None


def _preamble_cells(line: str, delimiter: str) -> list[str]:
    """The cells of a preamble line, split by the header's delimiter or, when that leaves one
    cell, by another one (`Currency<TAB>AUD` above a comma-separated table)."""
    for candidate in (delimiter, *DELIMITERS):
        cells = [c.strip() for c in _cells(line, candidate)]
        if len(cells) >= 2:
            return cells
    return [line.strip()]


def _check_default(name: str, value: str, spec: ProfileSpec) -> str:
    if name == "period":
        return rules.period(value, spec.date_order)
    if name == "currency":
        return rules.currency(value)
    if name == "territory":
        return rules.territory(value)
    if name in rules.MAX_TEXT:
        return rules.text(value, name)
    return value


def _defaults(layout: Layout, found: dict[str, str], file_name: str) -> dict[str, str]:
    """Values for fields without a column (or with an empty cell): the preamble, then the
    profile's defaults, then the revenue column's header (currency) or the file name (period)."""
    spec = layout.spec
    values = dict(spec.defaults)
    values.update(found)
    if not values.get("currency") and "revenue" in layout.columns:
        values["currency"] = rules.currency_in_header(layout.names[layout.columns["revenue"]]) or ""
    if not values.get("period"):
        values["period"] = rules.period_in_file_name(file_name)
    return values


# --- rows -----------------------------------------------------------------------------------------


def _remember(cache: dict, check: Callable[[str], object], raw: str):
    """Validate a value not seen yet (raising Reject) and remember its normalised form."""
    value = check(raw)
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[raw] = value
    return value


def _rows(
    lines: Iterator[str], stats: Stats, layout: Layout, defaults: dict[str, str], *, columnar: bool = True
) -> Iterator[Row | list[Row] | Problem]:
    """Rows (a batch of plain lines as one list, `_PlainLines`, unless not `columnar`) and
    problems of the lines after the header, in file order."""
    columns = layout.columns
    ncols = len(layout.names)
    width = max(columns.values()) + 1
    decimal_comma = layout.decimal_comma
    tail = default_cells(defaults)
    index = field_cells(layout)
    ip, idsp, iart, ititle, iisrc, iupc, iterr, iu, irev, icur, isale, ivoid, irel, icm = (
        index[name] for name in rules.FIELDS
    )
    checks = value_checks(layout, defaults)
    check_period, check_dsp, check_artist = checks["period"], checks["dsp"], checks["artist"]
    check_territory, check_currency = checks["territory"], checks["currency"]
    check_sale, check_void = checks["sale_type"], checks["void"]
    isrc_ok, plain_decimal = rules.ISRC_PATTERN.fullmatch, _PLAIN_DECIMAL.fullmatch
    declared = _Declared(stats, columns, decimal_comma, defaults.get("currency", ""))
    # One C call takes every cell a row needs (missing columns read the tail).
    cells = itemgetter(isale, ip, idsp, iart, iisrc, iupc, ititle, iterr, icur, iu, irev, irel, icm)
    has_void = ivoid < ncols
    # A release-level row leaves the track columns empty (FUGA's Asset Quantity, Symphonic's Track
    # Artists): the next column the profile names for that field is read instead.
    fill = [(columns[name], others) for name, others in layout.fallbacks.items()]
    # A short row naming columns of the header starts a summary table after the sales (Apple's
    # financial reports end with one by country: Country Of Sale, Partner Share Currency, …).
    header_names = {normal_name(name) for name in layout.names}
    in_summary = False
    # Metadata that names nothing (a territory no country, a malformed ISRC or UPC): the line is
    # kept without it, and each distinct case is one warning with its count of lines.
    kept: Counter[str] = Counter()
    trailer: list[str] = []
    unknown = rules.UNKNOWN_TERRITORY
    markers = layout.spec.skip_markers
    marked: Counter[str] = Counter()
    end = stats.lines = layout.line
    plain = None if markers or not columnar else _PlainLines(layout, defaults, checks, kept)
    caches = plain.caches if plain else {name: {} for name in checks}
    cp, cdsp, cart = caches["period"], caches["dsp"], caches["artist"]
    cterr, ccur, csale, cvoid = caches["territory"], caches["currency"], caches["sale_type"], caches["void"]
    source = iter(lines)
    last = False
    while not last:
        batch: list[str] = []
        try:
            # list.extend keeps the lines read before a line too long: they are read first.
            batch.extend(islice(source, BATCH))
        except LineTooLong as exc:
            batch_lines, last = chain(batch, failing(exc)), True
        else:
            if not batch:
                break
            if plain is not None and (block := plain.rows(batch, end + 1)) is not None:
                end = stats.lines = end + len(batch)
                yield block
                continue
            batch_lines = iter(batch)
        for fields in _records(batch_lines, layout.delimiter, stats, source):
            start = end + 1
            end = stats.lines
            if type(fields) is Problem:
                last = last or fields.fatal
                yield fields
                continue
            if markers and (marker := _marker(fields, markers)):
                stats.structural += 1  # a row the profile names as no sale, in whichever column
                marked[marker] += 1
                continue
            if len(fields) != ncols:
                count = len(fields)
                if count < width:
                    if not "".join(fields).strip() or in_summary:
                        stats.structural += 1  # a blank line, or a row of the summary table
                    elif _totals_label(fields):
                        declared.add(fields)
                    elif count == 1 or trailer:
                        # One cell cannot hold units and an amount: it starts a text trailer
                        # (Traxsource's "Label Net: 566.67", "Period: Jul 1, 2017 to Jul 31, 2017",
                        # "** All values are in US Dollars **"), whose short lines are structure.
                        stats.structural += 1
                        trailer.append(layout.delimiter.join(fields).strip())
                    elif _summary_header(fields, header_names):
                        in_summary = True
                        stats.structural += 1
                        stats.warnings.append(
                            f"line {start}: a summary table follows the sales ({', '.join(filter(None, fields))});"
                            " its rows are totals, not read as sales"
                        )
                    else:
                        yield rejected(start, "line_fields_missing", width=width, count=count)
                    continue
                fields = fields[:ncols] if count > ncols else fields + [""] * (ncols - count)
            fields += tail
            for primary, others in fill:
                if not fields[primary].strip():
                    fields[primary] = next((fields[i] for i in others if fields[i].strip()), "")
            (
                raw_sale,
                raw_period,
                raw_dsp,
                raw_artist,
                raw_isrc,
                upc,
                title,
                raw_territory,
                raw_currency,
                units,
                revenue,
                release,
                model,
            ) = cells(fields)
            try:
                sale = csale.get(raw_sale) or _remember(csale, check_sale, raw_sale)
                if sale[2] == _SKIP:
                    stats.structural += 1
                    continue
                period = cp.get(raw_period) or _remember(cp, check_period, raw_period)
                dsp = cdsp.get(raw_dsp) or _remember(cdsp, check_dsp, raw_dsp)
                artist = cart.get(raw_artist) or _remember(cart, check_artist, raw_artist)
                isrc = raw_isrc
                if isrc and not isrc_ok(isrc):
                    isrc = _identifier(rules.isrc, isrc, kept, "ISRC")
                if upc and not (upc.isdigit() and upc.isascii() and 8 <= len(upc) <= 14):
                    upc = _identifier(rules.upc, upc, kept, "UPC")
                if title and not (title.isprintable() and title.strip() == title and len(title) <= 500):
                    title = _optional_text(title, "title", kept)
                territory = cterr.get(raw_territory) or _remember(cterr, check_territory, raw_territory)
                if territory == unknown:
                    kept[rules.unknown_territory(raw_territory)] += 1
                currency = ccur.get(raw_currency) or _remember(ccur, check_currency, raw_currency)
                if not (units.isdigit() and units.isascii() and len(units) < 19):
                    units = _units(units, revenue, decimal_comma, kept)
                if not plain_decimal(revenue):
                    revenue = rules.revenue(revenue, decimal_comma)
                if release and not (
                    release.isprintable() and release.strip() == release and len(release) <= 500
                ):
                    release = _optional_text(release, "release", kept)
                if model and not (model.isprintable() and model.strip() == model and len(model) <= 200):
                    model = _optional_text(model, "commercial_model", kept)
                void = sale[2] == _VOID
                if has_void and not void:
                    raw_void = fields[ivoid]
                    void = cvoid.get(raw_void)
                    if void is None:
                        void = _remember(cvoid, check_void, raw_void)
            except Reject as exc:
                kind = rejection(exc, fields[:ncols], layout)
                if kind == TOTALS:
                    declared.add(fields[:ncols])
                elif kind == HEADER:
                    stats.structural += 1  # the header again: reports concatenated into one file
                else:
                    yield line_problem(start, exc, fields, layout, defaults)
                continue
            if void:
                units, revenue = rules.negated(units), rules.negated(revenue)
            yield (
                start,
                period,
                dsp,
                artist,
                isrc,
                upc,
                title,
                territory,
                units,
                revenue,
                currency,
                sale[0],
                sale[1],
                model,
                release,
            )
    stats.warnings += [f"{what} on {count} line(s)" for what, count in kept.items()]
    stats.warnings += [
        f"{count} row(s) holding {marker!r} skipped: no sales (the profile's skip markers)"
        for marker, count in marked.items()
    ]
    if trailer:
        stats.declared["trailer"] = trailer
        shown = "; ".join(" ".join(line.split()) for line in trailer[:_TRAILER_SHOWN])
        stats.warnings.append(
            f"a text trailer of {len(trailer)} line(s) follows the sales; structure, not sales: {shown}"
        )


class _PlainLines:
    """Cleans a batch of plain lines column by column, with the per-line rules' results.

    A batch is plain when no line has a quote, a blank, a line break inside or a wrong number of
    cells, and every value passes its check as a sales line's: no rejection, totals or skipped
    row, no reversal, no ISRC or UPC to drop. Then each column is one slice of the batch's cells,
    a key column's distinct values are checked once (`value_checks`, sharing the per-line path's
    caches), and the others are checked at once over the whole column (one regular expression or
    string test over their join) and only an odd value on its own, by the per-line rule; the rows
    are the columns zipped. Any other batch returns None and `_rows` reads it line by line, so
    both give the same rows, problems and warnings (tests/statements/test_plain_batches.py)."""

    def __init__(self, layout: Layout, defaults: dict[str, str], checks: dict[str, Callable], kept: Counter):
        self.ncols = len(layout.names)
        self.delimiter = layout.delimiter
        self.decimal_comma = layout.decimal_comma
        self.tail = default_cells(defaults)
        self.index = field_cells(layout)
        self.fill = [(layout.columns[name], others) for name, others in layout.fallbacks.items()]
        self.has_void = "void" in layout.columns
        self.checks = checks
        self.caches: dict[str, dict] = {name: {} for name in checks}
        self.kept = kept
        self.limit = csv.field_size_limit()

    def rows(self, batch: list[str], first: int) -> list[Row] | None:
        """The rows of `batch`, whose first line is physical line `first`, or None when the
        batch is not plain."""
        n, ncols, delimiter = len(batch), self.ncols, self.delimiter
        joined = "".join(batch)
        if '"' in joined or max(map(len, batch)) > self.limit:
            return None
        # One piece per line exactly when no line holds a line break of its own (\x1c, \x85, …).
        texts = joined.splitlines()
        if len(texts) != n or "" in texts or set(map(str.count, texts, repeat(delimiter, n))) != {ncols - 1}:
            return None
        cells = delimiter.join(texts).split(delimiter)
        columns = [cells[i::ncols] for i in range(ncols)] + [[value] * n for value in self.tail]
        for primary, others in self.fill:
            if not all(map(str.strip, columns[primary])):
                alternatives = [columns[i] for i in others]
                columns[primary] = [
                    cell if cell.strip() else next((alt[k] for alt in alternatives if alt[k].strip()), "")
                    for k, cell in enumerate(columns[primary])
                ]
        try:
            return self._clean(columns, n, first)
        except Reject:
            return None

    def _clean(self, columns: list[list[str]], n: int, first: int) -> list[Row] | None:
        index, decimal_comma = self.index, self.decimal_comma
        sales = self._distinct("sale_type", columns[index["sale_type"]])
        if any(kind != _SALE for _, _, kind in sales.values()):
            return None
        if self.has_void and any(self._distinct("void", columns[index["void"]]).values()):
            return None
        keys = {
            name: list(map(self._distinct(name, columns[index[name]]).__getitem__, columns[index[name]]))
            for name in ("period", "dsp", "artist", "territory", "currency")
        }
        isrcs, upcs = columns[index["isrc"]], columns[index["upc"]]
        if not (_ISRCS.fullmatch("\n".join(isrcs) + "\n") and _upcs_valid(upcs)):
            return None  # an ISRC or UPC to drop (with its warning, in line order)
        units = columns[index["units"]]
        if not _plain_integers(units):
            units = [u if _plain_integers([u]) else rules.units(u, decimal_comma) for u in units]
        revenue = columns[index["revenue"]]
        if not _PLAIN_DECIMALS.fullmatch("\n".join(revenue) + "\n"):
            revenue = [r if _PLAIN_DECIMAL.fullmatch(r) else rules.revenue(r, decimal_comma) for r in revenue]
        texts = {
            name: _texts(columns[index[name]], name, rules.MAX_TEXT[name])
            for name in ("title", "release", "commercial_model")
        }
        territories = keys["territory"]
        if rules.UNKNOWN_TERRITORY in territories:
            raw = columns[index["territory"]]
            self.kept.update(
                rules.unknown_territory(raw[k])
                for k, code in enumerate(territories)
                if code == rules.UNKNOWN_TERRITORY
            )
        kinds = list(map(sales.__getitem__, columns[index["sale_type"]]))
        return list(
            zip(
                range(first, first + n),
                keys["period"],
                keys["dsp"],
                keys["artist"],
                isrcs,
                upcs,
                texts["title"],
                territories,
                units,
                revenue,
                keys["currency"],
                map(itemgetter(0), kinds),
                map(itemgetter(1), kinds),
                texts["commercial_model"],
                texts["release"],
                strict=True,
            )
        )

    def _distinct(self, name: str, column: list[str]) -> dict:
        """Raw value → normalised, for each distinct value of a key column (raises Reject)."""
        cache, check = self.caches[name], self.checks[name]
        found = {}
        for raw in set(column):
            value = cache.get(raw)
            found[raw] = _remember(cache, check, raw) if value is None else value
        return found


# A column of ISRCs (each empty or valid) and of plain revenues, joined with a line break after each.
_ISRCS = re.compile(f"(?:(?:{rules.ISRC_PATTERN.pattern})?\n)*")
_PLAIN_DECIMALS = re.compile(f"(?:{_PLAIN_DECIMAL.pattern}\n)*")


def _upcs_valid(column: list[str]) -> bool:
    """Whether every UPC of a column is empty or 8 to 14 ASCII digits."""
    given = list(filter(None, column))
    if not given:
        return True
    digits = "".join(given)
    return digits.isdigit() and digits.isascii() and min(map(len, given)) >= 8 and max(map(len, given)) <= 14


def _plain_integers(column: list[str]) -> bool:
    """Whether every value is 1 to 18 ASCII digits (the per-line fast path for units)."""
    digits = "".join(column)
    return digits.isdigit() and digits.isascii() and min(map(len, column)) >= 1 and max(map(len, column)) < 19


def _texts(column: list[str], name: str, limit: int) -> list[str]:
    """A text column as the per-line path leaves it: values printable, without surrounding
    spaces and within `limit` as they are, the others through `rules.text` (raises Reject)."""
    # Printable text has no whitespace but the space, so a value with surrounding whitespace has
    # a space next to a line break (or at an end) once the values are joined with line breaks.
    lines = "\n".join(column)
    if (
        "".join(column).isprintable()
        and max(map(len, column)) <= limit
        and " \n" not in lines
        and "\n " not in lines
        and lines[:1] != " "
        and lines[-1:] != " "
    ):
        return column
    return [
        value
        if not value or (value.isprintable() and value.strip() == value and len(value) <= limit)
        else rules.text(value, name)
        for value in column
    ]


def _marker(fields: list[str], markers: frozenset) -> str:
    """The cell of a row that is one of the profile's skip markers (compared as header names are),
    or ""."""
    return next((cell.strip() for cell in fields if cell and normal_name(cell) in markers), "")


def default_cells(defaults: dict[str, str]) -> list[str]:
    """The cells appended after a row's own, one per field (`rules.FIELDS`): fields without a
    column read their default there. A default sale type is ours, not the source's: the source's
    type (use type) stays empty."""
    return [defaults.get(name, "") if name != "sale_type" else "" for name in rules.FIELDS]


def field_cells(layout: Layout) -> dict[str, int]:
    """Field → the cell it is read from in a row followed by its `default_cells`."""
    ncols = len(layout.names)
    return {name: layout.columns.get(name, ncols + position) for position, name in enumerate(rules.FIELDS)}


def value_checks(layout: Layout, defaults: dict[str, str]) -> dict[str, Callable]:
    """The rules of the columns a report repeats a few values of, by field: each turns one raw
    cell into its normalised form or raises Reject (`_TotalsRow` for a totals label). `sale_type`
    gives (our type, the source's type, row kind), `void` whether the cell marks a reversal."""
    period, dsp, artist, territory, currency = _key_checks(layout.spec, defaults)
    sale, void = _kind_checks(layout.spec, "void" in layout.columns)
    return {
        "period": period,
        "dsp": dsp,
        "artist": artist,
        "territory": territory,
        "currency": currency,
        "sale_type": sale,
        "void": void,
    }


TOTALS, HEADER, PROBLEM = "totals", "header", "problem"


def rejection(exc: Reject, cells: list[str], layout: Layout) -> str:
    """What a line a check rejected is: a totals or balance row (TOTALS), the header again
    (HEADER), or a sales line with a problem (PROBLEM). `cells` are the line's own cells."""
    if isinstance(exc, _TotalsRow) or _totals_label(cells):
        return TOTALS
    return HEADER if cells == layout.names else PROBLEM


def is_sale(kind: int) -> tuple[bool, bool]:
    """(a sales line, a reversal) for the row kind `value_checks()["sale_type"]` gives."""
    return kind != _SKIP, kind == _VOID


def line_problem(
    start: int, exc: Reject, fields: list[str], layout: Layout, defaults: dict[str, str]
) -> Problem:
    """The Problem of a sales line a check rejected (`fields`: its cells and `default_cells`),
    with its amount and currency where they read."""
    index = field_cells(layout)
    amount = _money(fields, index["revenue"], index["currency"], layout, defaults)
    return Problem(start, str(exc), False, *amount, text=exc.text)


def _money(
    fields: list[str], irev: int, icur: int, layout: Layout, defaults: dict[str, str]
) -> tuple[str, str]:
    """(amount as written, currency) of a rejected line, or ("", "") when its amount does not
    read; an unreadable currency is named as written ("?" when there is none)."""
    try:
        amount = rules.to_decimal(fields[irev], layout.decimal_comma)
    except (InvalidOperation, ValueError):
        return "", ""
    if not amount.is_finite() or abs(amount) >= rules.REVENUE_LIMIT:
        return "", ""  # no amount a report means
    return format(amount, "f"), (fields[icur].strip() or defaults.get("currency", "")).upper()[:3] or "?"


def _units(raw: str, revenue: str, decimal_comma: bool, kept: Counter) -> str:
    """A line's units; none written beside an amount (Bandcamp's partial refund: money back, no
    item) count as 0 and the line keeps its money, with a warning."""
    if not raw.strip() and revenue.strip():
        kept[NO_UNITS] += 1
        return "0"
    return rules.units(raw, decimal_comma)


# The warning of lines with an amount and no units (statements.texts.WARNINGS["units_empty_kept"]).
NO_UNITS = "no units written beside the amount: counted as 0, the amount is kept"


def _optional_text(raw: str, name: str, kept: Counter) -> str:
    """A title, release or commercial model; one too long to be what it names (a misread column
    or a pasted description) is left empty with a warning: the line keeps its money."""
    try:
        return rules.text(raw, name)
    except Reject as exc:
        if exc.text is None or exc.text.code != "text_too_long":
            raise
        kept[f"{name} is longer than {rules.MAX_TEXT[name]} characters: the line is kept without it"] += 1
        return ""


def _identifier(check: Callable[[str], str], raw: str, kept: Counter, name: str) -> str:
    """A malformed ISRC or UPC is left empty and counted in `kept` (the line is kept); a UPC a
    spreadsheet turned into a rounded number (`1,91774E+11`) is named as destroyed."""
    try:
        return check(raw)
    except Reject as exc:
        reason = str(exc)
        if _SCIENTIFIC.fullmatch(raw.strip()):
            reason = (
                f"{name} {raw.strip()!r} was destroyed by a spreadsheet (rounded to a number in E notation)"
            )
        kept[f"{reason}: the line is kept without it"] += 1
        return ""


def _records(
    lines: Iterator[str], delimiter: str, stats: Stats, more: Iterator[str]
) -> Iterator[list[str] | Problem]:
    """The cells of each record after the header, with `stats.lines` set to the physical line it
    ends on, or a Problem for a record the csv module cannot read (and a fatal one for a line over
    the length `open_text` allows). A line without a quote (nor a
    stray line break or a field over the csv module's limit) is one record, whose cells are the
    csv module's split at the delimiter, five times faster; the csv module reads the others,
    where a quoted field may span lines (past `lines`, into `more`)."""
    pushed: list[str] = []

    def feed() -> Iterator[str]:
        while True:
            if pushed:
                yield pushed.pop()
            elif (line := next(lines, None)) is not None or (line := next(more, None)) is not None:
                yield line  # the rest of a quoted field that spans lines
            else:
                return

    reader = csv.reader(feed(), delimiter=delimiter, strict=False)
    limit = csv.field_size_limit()
    number = stats.lines
    try:
        for line in lines:
            text = line.rstrip("\r\n")
            if '"' in text or "\r" in text or "\n" in text or len(text) > limit:
                pushed.append(line)
                read = reader.line_num
                try:
                    fields = next(reader)
                except csv.Error as exc:
                    fields = rejected(number + 1, "line_unreadable_csv", error=str(exc))
                number += reader.line_num - read
            else:
                fields = text.split(delimiter) if text else []
                number += 1
            stats.lines = number
            yield fields
    except LineTooLong:
        yield fatal(number + 1, "line_too_long", limit=MAX_LINE >> 20)


def _key_checks(spec: ProfileSpec, defaults: dict[str, str]) -> tuple[Callable[[str], str], ...]:
    """Validators of the cached key columns; an empty cell takes the default, a totals label
    raises _TotalsRow."""

    def labelled(raw: str) -> None:
        if rules.is_total_label(raw) or rules.is_balance_label(raw):
            raise _TotalsRow(f"{raw!r} labels a totals row")

    def period(raw: str) -> str:
        labelled(raw)
        value = raw.strip() or defaults.get("period", "")
        if not value:
            raise reject("period_empty")
        return rules.period(value, spec.date_order)

    def dsp(raw: str) -> str:
        labelled(raw)
        return rules.text(raw.strip() or defaults.get("dsp", ""), "dsp", required=True)

    def artist(raw: str) -> str:
        labelled(raw)
        # A line without an artist keeps its money; the artist stays empty.
        return rules.text(raw.strip() or defaults.get("artist", ""), "artist")

    def territory(raw: str) -> str:
        labelled(raw)
        return rules.territory(raw.strip() or defaults.get("territory", ""))

    def currency(raw: str) -> str:
        value = raw.strip() or defaults.get("currency", "")
        if not value:
            raise reject("currency_empty")
        return rules.currency(value)

    return period, dsp, artist, territory, currency


def _kind_checks(spec: ProfileSpec, has_void_column: bool):
    """Validators of the sale-type cell (our type, the source's type, sale/void/skip) and of the
    void cell."""

    def sale(raw: str) -> tuple[str, str, int]:
        if rules.is_total_label(raw) or rules.is_balance_label(raw):
            raise _TotalsRow(f"{raw!r} labels a totals row")
        use_type = rules.text(raw, "use_type")
        key = normal_name(raw)
        if key and key in spec.skip_values:
            return "", "", _SKIP
        # Without a void column, reversals are marked by the sale type ("Return", "Refund").
        kind = _VOID if key and not has_void_column and key in spec.void_values else _SALE
        return rules.sale_type_of(raw, spec), use_type, kind

    def void(raw: str) -> bool:
        return normal_name(raw) in spec.void_values

    return sale, void


def _summary_header(cells: list[str], header_names: set[str]) -> bool:
    """Whether a short row is the header of a summary table: two or more cells, each a column name
    of the report's own header."""
    named = [normal_name(cell) for cell in cells if cell.strip()]
    return len(named) >= 2 and all(name in header_names for name in named)


# --- totals rows ---------------------------------------------------------------------------------


def _totals_label(cells: list[str]) -> str:
    """The label of a totals or carried-balance row, or "": the first text cell is such a label,
    or the row is numbers plus at most two text cells, one of them a label."""
    texts = [c for c in cells if c.strip() and not _NUMERIC_CELL.fullmatch(c.strip())]
    if not texts:
        return ""
    labels = texts if len(texts) <= 2 else texts[:1]
    for cell in labels:
        if rules.is_total_label(cell) or rules.is_balance_label(cell):
            return cell.strip()
    return ""


class _Declared:
    """The totals a report declares on its totals rows, kept in `stats.declared`: the grand
    total rows when there are any, otherwise the plain total rows (subtotals and balances are
    structural but declare nothing)."""

    def __init__(self, stats: Stats, columns: dict[str, int], decimal_comma: bool, currency: str):
        self.stats = stats
        self.columns = columns
        self.decimal_comma = decimal_comma
        self.currency = currency
        self.sums = {"grand": _Sums(), "total": _Sums()}

    def add(self, fields: list[str]) -> None:
        self.stats.structural += 1
        label = _totals_label(fields) or next((f for f in fields if rules.is_total_label(f)), "")
        key = normal_name(label).replace("_", "")
        kind = "grand" if key.startswith("grand") else "total" if key.startswith("total") else ""
        if not kind:
            return
        sums = self.sums[kind]
        sums.rows += 1
        if (units := self._number(fields, "units")) is not None:
            sums.units = units + (sums.units or 0)
        if (revenue := self._number(fields, "revenue")) is not None:
            currency = self.currency
            if "currency" in self.columns and self.columns["currency"] < len(fields):
                currency = fields[self.columns["currency"]].strip().upper() or currency
            # "?" when neither the row nor the report names the currency.
            sums.revenue[currency or "?"] = sums.revenue.get(currency or "?", Decimal(0)) + revenue
        chosen = self.sums["grand"] if self.sums["grand"].rows else self.sums["total"]
        declared = {"totals_rows": chosen.rows}
        if chosen.units is not None:
            declared["units"] = str(chosen.units)
        if chosen.revenue:
            declared["revenue"] = {code: str(amount) for code, amount in chosen.revenue.items()}
        self.stats.declared.update(declared)

    def _number(self, fields: list[str], name: str) -> Decimal | None:
        position = self.columns.get(name)
        if position is None or position >= len(fields) or not fields[position].strip():
            return None
        try:
            number = rules.to_decimal(fields[position], self.decimal_comma)
        except (InvalidOperation, ValueError):
            return None
        return number if number.is_finite() else None


@dataclass
class _Sums:
    rows: int = 0
    units: Decimal | None = None
    revenue: dict[str, Decimal] = field(default_factory=dict)
