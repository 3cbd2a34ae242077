"""Pure parsers that turn a DSP sales file into normalised rows plus rejected lines.

`parse(stream)` reads a binary stream and returns the detected format and a lazy stream of `Row`
tuples and `Problem`s in file order, so a file of any size is cleaned with bounded memory. Every
line is accounted for: it is the header, a row, a rejected line or (DSR) a structural record.
Nothing here touches the database or the storage.

Two formats are recognised:

* a generic CSV/TSV with a header row: separator `,`, `;` or tab, optional BOM, quoted fields,
  column names matched case-insensitively through `ALIASES`; with `;` or tab, `,` is the decimal
  separator (then `.` may group thousands);
* a DDEX DSR flat file (tab separated, one record type per line, HEAD … FOOT); see `_parse_dsr`
  for the record layouts read.

Text is UTF-8 (with or without BOM); a line that is not valid UTF-8 is read as Windows-1252, as
exported by older spreadsheet tools.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import chain
from typing import BinaryIO

from statements.cleaners.base import Problem, Reject, Row, Stats

GENERIC_CSV = "generic_csv"
DDEX_DSR = "ddex_dsr"

# The columns this legacy reader cannot tell: (sale_type, use_type, commercial_model, release).
GENERIC_EXTRA = ("other", "", "", "")
DSR_EXTRA = ("stream", "", "", "")
REQUIRED = ("period", "dsp", "artist", "territory", "units", "revenue", "currency")
OPTIONAL = ("isrc", "upc", "title")
ALIASES = {
    "period": (
        "period",
        "sales_period",
        "sale_period",
        "reporting_period",
        "statement_period",
        "month",
        "sales_month",
        "usage_period",
    ),
    "dsp": (
        "dsp",
        "store",
        "platform",
        "service",
        "retailer",
        "shop",
        "provider",
        "partner",
        "dsp_name",
        "store_name",
        "service_name",
    ),
    "artist": (
        "artist",
        "artist_name",
        "artists",
        "display_artist",
        "main_artist",
        "track_artist",
        "performer",
    ),
    "isrc": ("isrc", "isrc_code", "track_isrc"),
    "upc": ("upc", "ean", "barcode", "upc_ean", "ean_upc", "icpn", "release_upc", "product_upc"),
    "title": ("title", "track", "track_title", "track_name", "song", "song_title", "product_title"),
    "territory": (
        "territory",
        "country",
        "country_code",
        "territory_code",
        "region",
        "market",
        "sale_country",
        "customer_country",
    ),
    "units": (
        "units",
        "quantity",
        "qty",
        "streams",
        "downloads",
        "plays",
        "use_count",
        "usage_count",
        "number_of_usages",
        "sales_units",
    ),
    "revenue": (
        "revenue",
        "amount",
        "net_revenue",
        "royalty",
        "royalties",
        "earnings",
        "payable",
        "net_amount",
        "gross_revenue",
        "income",
        "revenue_amount",
        "net_payable",
    ),
    "currency": ("currency", "currency_code", "curr", "ccy", "revenue_currency", "payment_currency"),
}
_ALIAS_TO_COLUMN = {alias: column for column, aliases in ALIASES.items() for alias in aliases}
MAX_TEXT = {"dsp": 200, "artist": 500, "title": 500}
MAX_DECIMALS = 16
REVENUE_LIMIT = Decimal(10) ** 14  # NUMERIC(30, 16)
UNITS_LIMIT = 2**63
MAX_LINE_BYTES = 4 << 20
CACHE_SIZE = 50_000  # distinct values remembered per column
MAX_SUMMARIES = 100_000  # DSR SY records kept in memory to resolve SU lines
_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")
# A revenue PostgreSQL reads exactly as written into NUMERIC(30, 16); others take the slow path.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,14}(?:\.[0-9]{1,16})?")
_PERIOD_FORMATS = (
    (re.compile(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?"), 1, 2),
    (re.compile(r"(\d{4})(\d{2})"), 1, 2),
    (re.compile(r"(\d{4})[/.](\d{1,2})"), 1, 2),
    (re.compile(r"(\d{1,2})[/.-](\d{4})"), 2, 1),
)
_THOUSANDS_COMMA = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_TERRITORY_ALIASES = {"WORLDWIDE": "WW", "WORLD": "WW"}


def parse(stream: BinaryIO) -> tuple[str | None, Iterator[Row | Problem], Stats]:
    """Detect the format from the first line of a binary stream and return
    (format, lazy rows and problems in file order, stats filled while they are consumed)."""
    stats = Stats()
    text = io.TextIOWrapper(_LineGuard(stream), encoding="utf-8", errors="surrogateescape", newline="")
    first = text.readline()
    if not first:
        return None, iter([Problem(1, "the file is empty", fatal=True)]), stats
    stats.lines = 1
    first = _fix_text(first).removeprefix("\ufeff")
    if first.startswith("HEAD\t"):
        return DDEX_DSR, _parse_dsr(chain([first], text), stats), stats
    if first.startswith("PK\x03\x04") or "\x00" in first:
        reason = "unknown format: binary content (a zip/xlsx export?); upload the sales data as CSV"
        return None, iter([Problem(1, reason, fatal=True)]), stats
    separator, columns, missing = _sniff_header(first)
    if missing:
        reason = (
            "unknown format: the first line is neither a DDEX DSR HEAD record nor a CSV/TSV header "
            f"naming {', '.join(REQUIRED)} (missing: {', '.join(missing)})"
        )
        return None, iter([Problem(1, reason, fatal=True)]), stats
    stats.structural = 1
    return GENERIC_CSV, _parse_generic(text, separator, columns, stats), stats


def parse_bytes(data: bytes) -> tuple[str | None, list[Row], list[Problem], Stats]:
    """Whole-file convenience over `parse` for small inputs and tests."""
    file_format, results, stats = parse(io.BytesIO(data))
    rows, problems = [], []
    for item in results:
        (problems if isinstance(item, Problem) else rows).append(item)
    return file_format, rows, problems, stats


class LineTooLong(ValueError):
    """The stream has a line longer than MAX_LINE_BYTES: it is not a text sales file."""


class _LineGuard(io.RawIOBase):
    """Raw reader over any binary stream that refuses lines longer than MAX_LINE_BYTES, so the
    memory used by the line-based parsers stays bounded whatever the upload contains."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.since_newline = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.stream.read(len(buffer))
        size = len(chunk)
        buffer[:size] = chunk
        last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        self.since_newline = self.since_newline + size if last < 0 else size - last - 1
        if self.since_newline > MAX_LINE_BYTES:
            raise LineTooLong(f"a line is longer than {MAX_LINE_BYTES} bytes: not a text sales file")
        return size


def _fix_text(value: str) -> str:
    """Text decoded as UTF-8 with surrogate escapes; bytes that were not UTF-8 are re-read as
    Windows-1252 (older spreadsheet exports)."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    return value


def _normal_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _sniff_header(first: str) -> tuple[str, dict[str, int], list[str]]:
    """(separator, column → index, missing required columns) for the best separator."""
    best = None
    for separator in ("\t", ";", ","):
        names = next(csv.reader([first], delimiter=separator), [])
        columns: dict[str, int] = {}
        for index, name in enumerate(names):
            column = _ALIAS_TO_COLUMN.get(_normal_name(name))
            if column and column not in columns:
                columns[column] = index
        missing = [column for column in REQUIRED if column not in columns]
        if best is None or len(missing) < len(best[2]):
            best = (separator, columns, missing)
    return best


def _parse_generic(
    text: Iterator[str], separator: str, columns: dict[str, int], stats: Stats
) -> Iterator[Row | Problem]:
    reader = csv.reader(text, delimiter=separator, strict=False)
    width = max(columns.values()) + 1
    to_decimal = _decimal_parser(separator)
    ip, idsp, iart, iterr, iu, irev, icur = (columns[c] for c in REQUIRED)
    iisrc, iupc, ititle = (columns.get(c) for c in OPTIONAL)
    isrc_ok, plain_decimal = _ISRC.fullmatch, _PLAIN_DECIMAL.fullmatch
    # Sales files repeat the same few periods, DSPs, artists and codes on every line, so each
    # distinct raw value of those columns is validated once and its normalised form remembered.
    cp, cdsp, cart, cterr, ccur = {}, {}, {}, {}, {}
    check_dsp = partial(_text, name="dsp", required=True)
    check_artist = partial(_text, name="artist", required=True)
    end = 1
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = stats.lines = reader.line_num + 1
            yield Problem(start, f"unreadable CSV: {exc}")
            continue
        # line_num counts physical lines, so a quoted field spanning lines is one record.
        end = stats.lines = reader.line_num + 1
        if len(fields) < width:
            if not fields or fields == [""]:
                yield Problem(start, "empty line")
            else:
                yield Problem(start, f"expected at least {width} fields, found {len(fields)}")
            continue
        try:
            period = cp.get(fields[ip]) or _remember(cp, _period, fields[ip])
            dsp = cdsp.get(fields[idsp]) or _remember(cdsp, check_dsp, fields[idsp])
            artist = cart.get(fields[iart]) or _remember(cart, check_artist, fields[iart])
            isrc = fields[iisrc] if iisrc is not None else ""
            if isrc and not isrc_ok(isrc):
                isrc = _isrc(isrc)
            upc = fields[iupc] if iupc is not None else ""
            if upc and not (upc.isdigit() and upc.isascii() and 8 <= len(upc) <= 14):
                upc = _upc(upc)
            title = fields[ititle] if ititle is not None else ""
            if title and not (title.isprintable() and title.strip() == title and len(title) <= 500):
                title = _text(title, "title")
            territory = cterr.get(fields[iterr]) or _remember(cterr, _territory, fields[iterr])
            currency = ccur.get(fields[icur]) or _remember(ccur, _currency, fields[icur])
            units = fields[iu]
            if not (units.isdigit() and units.isascii() and len(units) < 19):
                units = _units(units, to_decimal)
            revenue = fields[irev]
            if not plain_decimal(revenue):
                revenue = _revenue(revenue, to_decimal)
        except Reject as exc:
            yield Problem(start, str(exc))
            continue
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
            *GENERIC_EXTRA,
        )


def _remember(cache: dict[str, str], check: Callable[[str], str], raw: str) -> str:
    """Validate a value not seen yet (raising Reject) and remember its normalised form."""
    value = check(raw)
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[raw] = value
    return value


def _decimal_parser(separator: str) -> Callable[[str], Decimal]:
    decimal_comma = separator in (";", "\t")

    def to_decimal(raw: str) -> Decimal:
        value = raw.strip()
        if "_" in value:
            raise InvalidOperation
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
        if decimal_comma and "," in value:
            return Decimal(value.replace(".", "").replace(",", "."))
        if not decimal_comma and _THOUSANDS_COMMA.fullmatch(value):
            return Decimal(value.replace(",", ""))
        raise InvalidOperation

    return to_decimal


def _period(raw: str) -> str:
    value = raw.strip()
    if len(value) == 7 and value[4] == "-" and value.isascii():
        year, month = value[:4], value[5:]
        if year.isdigit() and month.isdigit() and "01" <= month <= "12":
            return value
    if value.isascii():
        for pattern, year_group, month_group in _PERIOD_FORMATS:
            match = pattern.fullmatch(value)
            if match and 1 <= int(match.group(month_group)) <= 12:
                return f"{match.group(year_group)}-{int(match.group(month_group)):02d}"
    raise Reject(f"period {raw!r} is not a month (YYYY-MM)")


def _text(raw: str, name: str, *, required: bool = False) -> str:
    value = _fix_text(raw).strip()
    if "\n" in value or "\r" in value or "\t" in value:
        value = " ".join(value.split())
    if "\x00" in value:
        raise Reject(f"{name} contains a NUL character")
    if required and not value:
        raise Reject(f"{name} is empty")
    if len(value) > MAX_TEXT[name]:
        raise Reject(f"{name} is longer than {MAX_TEXT[name]} characters")
    return value


def _isrc(raw: str) -> str:
    value = raw.strip().upper().replace("-", "")
    if value and not _ISRC.fullmatch(value):
        raise Reject(f"ISRC {raw!r} is not a valid ISRC")
    return value


def _upc(raw: str) -> str:
    value = raw.strip()
    if value and not (value.isascii() and value.isdigit() and 8 <= len(value) <= 14):
        raise Reject(f"UPC {raw!r} is not 8 to 14 digits")
    return value


def _territory(raw: str) -> str:
    value = raw.strip().upper()
    value = _TERRITORY_ALIASES.get(value, value)
    if len(value) != 2 or not (value.isascii() and value.isalpha()):
        raise Reject(f"territory {raw!r} is not an ISO 3166 two-letter code")
    return value


def _currency(raw: str) -> str:
    value = raw.strip().upper()
    if len(value) != 3 or not (value.isascii() and value.isalpha()):
        raise Reject(f"currency {raw!r} is not an ISO 4217 code")
    return value


def _units(raw: str, to_decimal: Callable[[str], Decimal]) -> str:
    try:
        if "_" in raw:
            raise ValueError
        units = int(raw)
    except ValueError:
        try:
            number = to_decimal(raw)
        except InvalidOperation:
            raise Reject(f"units {raw!r} is not a whole number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise Reject(f"units {raw!r} is not a whole number") from None
        units = int(number)
    if abs(units) >= UNITS_LIMIT:
        raise Reject(f"units {raw!r} is out of range")
    return str(units)


def _revenue(raw: str, to_decimal: Callable[[str], Decimal]) -> str:
    try:
        amount = to_decimal(raw)
    except InvalidOperation:
        raise Reject(f"revenue {raw!r} is not a number") from None
    if not amount.is_finite() or abs(amount) >= REVENUE_LIMIT:
        raise Reject(f"revenue {raw!r} is out of range")
    if amount.as_tuple().exponent < -MAX_DECIMALS:
        raise Reject(f"revenue {raw!r} has more than {MAX_DECIMALS} decimal places")
    return str(amount)


# --- DDEX DSR flat files ------------------------------------------------------------------------
# Record layouts read (0-based field positions; field 0 is the record type). Other record types
# (e.g. MW01, RE01) are allowed and ignored.
#   HEAD  8 UsageStartDate, 11 SenderName (the DSP), 12 ServiceDescription (DSP when no sender)
#   SY..  1 SummaryRecordId, 6 Territory, 10 Currency
#   AS..  1 BlockId, 4 ISRC, 5 Title, 7 DisplayArtistName
#   RU..  1 BlockId, 4 ICPN (UPC/EAN of the release)
#   SU..  1 BlockId, 2 SummaryRecordId, 3 SalesTransactionId, 7 Territory, 8 NumberOfUsages
#   LI..  1 BlockId, 2 SalesTransactionId, 5 Currency, 6 NetRevenue
#   FOOT  1 NumberOfLinesInFile
# A sales line is an SU record with the revenue of its LI records (summed per transaction);
# blank territory/currency fall back to the SY summary record the SU line refers to.


@dataclass
class _Usage:
    line: int
    block: str
    transaction: str
    territory: str
    currency: str
    units: str
    revenue: Decimal | None = None


def _parse_dsr(text: Iterator[str], stats: Stats) -> Iterator[Row | Problem]:
    to_decimal = _decimal_parser(",")
    period = dsp = ""
    summaries: dict[str, tuple[str, str]] = {}
    block: dict[str, str] = {}
    usage: _Usage | None = None
    footer_seen = False

    def finish(current: _Usage | None) -> Row | Problem | None:
        if current is None:
            return None
        if current.revenue is None:
            return Problem(current.line, f"usage {current.transaction!r} has no LI revenue record")
        try:
            return (
                current.line,
                _period(period),
                _text(dsp, "dsp", required=True),
                _text(block.get("artist", ""), "artist", required=True),
                _isrc(block.get("isrc", "")),
                _upc(block.get("upc", "")),
                _text(block.get("title", ""), "title"),
                _territory(current.territory),
                current.units,
                _revenue(str(current.revenue), to_decimal),
                _currency(current.currency),
                *DSR_EXTRA,
            )
        except Reject as exc:
            return Problem(current.line, str(exc))

    for number, line in enumerate(text, start=1):
        stats.lines = number
        fields = line.rstrip("\r\n").split("\t")
        kind = fields[0].removeprefix("\ufeff")
        family = kind[:2]
        if footer_seen:
            yield Problem(number, "line after the FOOT record")
            continue
        if kind == "HEAD":
            stats.structural += 1
            if number != 1:
                yield Problem(number, "a second HEAD record", fatal=True)
                return
            period = fields[8][:7] if len(fields) > 8 else ""
            dsp = (fields[11] if len(fields) > 11 else "") or (fields[12] if len(fields) > 12 else "")
            continue
        if kind == "FOOT":
            if (item := finish(usage)) is not None:
                yield item
            usage = None
            footer_seen = True
            stats.structural += 1
            declared = fields[1].strip() if len(fields) > 1 else ""
            if declared.isdigit() and int(declared) != number:
                reason = f"FOOT declares {declared} lines but the file has {number}: truncated or corrupt"
                yield Problem(number, reason, fatal=True)
                return
            continue
        if family == "SY" and len(fields) > 10:
            if len(summaries) >= MAX_SUMMARIES:
                yield Problem(number, f"more than {MAX_SUMMARIES} summary records", fatal=True)
                return
            stats.structural += 1
            summaries[fields[1]] = (fields[6], fields[10])
        elif family == "AS" and len(fields) > 7:
            if (item := finish(usage)) is not None:
                yield item
            usage = None
            stats.structural += 1
            block = {"id": fields[1], "isrc": fields[4], "title": fields[5], "artist": fields[7]}
        elif family == "RU" and len(fields) > 4:
            stats.structural += 1
            if fields[1] == block.get("id"):
                block["upc"] = fields[4]
        elif family == "SU" and len(fields) > 8:
            if (item := finish(usage)) is not None:
                yield item
            usage = None
            territory, currency = summaries.get(fields[2], ("", ""))
            try:
                if fields[1] != block.get("id"):
                    raise Reject(f"usage of block {fields[1]!r} outside that block")
                units = _units(fields[8], to_decimal)
            except Reject as exc:
                yield Problem(number, str(exc))
                continue
            usage = _Usage(number, fields[1], fields[3], fields[7] or territory, currency, units)
        elif family == "LI" and len(fields) > 6:
            if usage is None or fields[2] != usage.transaction or fields[1] != usage.block:
                yield Problem(number, f"revenue record for an unknown usage {fields[2]!r}")
                continue
            currency = fields[5] or usage.currency
            try:
                amount = to_decimal(fields[6])
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite():
                yield Problem(number, f"revenue {fields[6]!r} is not a number")
            elif usage.revenue is not None and currency != usage.currency:
                yield Problem(number, "a second currency for the same usage")
            else:
                stats.structural += 1
                usage.currency = currency
                usage.revenue = amount if usage.revenue is None else usage.revenue + amount
        elif family in ("SY", "AS", "RU", "SU", "LI"):
            yield Problem(number, f"{kind} record has too few fields ({len(fields)})")
        elif not kind.strip() and len(fields) == 1:
            yield Problem(number, "empty line")
        else:
            stats.structural += 1
    if (item := finish(usage)) is not None:
        yield item
    if not footer_seen:
        yield Problem(stats.lines + 1, "the DSR file ends without a FOOT record: truncated?", fatal=True)
