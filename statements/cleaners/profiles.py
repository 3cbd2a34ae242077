"""Import profiles (how to read one CSV/TSV report layout) and the value rules every layout shares.

A `ProfileSpec` is the plain, immutable form of an `ImportProfile` row that the pure parser in
`delimited.py` reads: which header names feed which of our fields, which of them identify the
layout, the delimiter and decimal separator, defaults, preamble keys and how the source's sale
types map onto ours. The built-in profiles live in `fixtures/statements/import_profiles.json`,
which a data migration loads and `builtin_profiles()` reads for tests and benchmarks.

The value rules (`period`, `territory`, `currency`, `to_decimal`, …) turn one raw cell into our
normalised text or raise `Reject` with the reason a user reads in the rejected-lines report.
"""

import gettext
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from types import MappingProxyType

import pycountry

from statements.cleaners.base import SALE_TYPES
from statements.texts import reject

BUILTIN_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "statements" / "import_profiles.json"

# Our fields a profile can map source columns to. `void` is a column whose values mark reversals
# (e.g. Symphonic's "Sale or Void"); the other names are CLEAN_COLUMNS.
FIELDS = (
    "period",
    "dsp",
    "artist",
    "title",
    "isrc",
    "upc",
    "territory",
    "units",
    "revenue",
    "currency",
    "sale_type",
    "void",
    "release",
    "commercial_model",
)
# Every sales line needs these, from a column or from a default (preamble, file name, header).
NEEDED = ("period", "dsp", "artist", "territory", "units", "revenue", "currency")
DELIMITERS = (",", ";", "\t", "|")
DATE_ORDERS = ("mdy", "dmy")
WORLDWIDE = "WW"
MAX_TEXT = {"dsp": 200, "artist": 500, "title": 500, "release": 500, "use_type": 200, "commercial_model": 200}
# Amounts are stored in an unconstrained numeric with every decimal the report has; an amount of
# a hundred trillion or more is a misread column, not a sale.
REVENUE_LIMIT = Decimal(10) ** 14
UNITS_LIMIT = 2**63

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PARENTHESES = re.compile(r"\([^)]*\)")
_UPPER_WORD = re.compile(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])")
# Currency signs that name one currency in a column header such as "Royalty ($US)".
_HEADER_SIGNS = (("$US", "USD"), ("US$", "USD"), ("€", "EUR"), ("£", "GBP"))
# A calculation's result sign (FUGA writes $ for US dollars).
_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}
_RESULT_SIGN = re.compile(r"=\s*([$€£])\s*$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
# "2025-06", "202506", "2025_06" (Cargo's physical statement), "2025-06-30", "2025-06-30T12:00".
_ISO_DATE = re.compile(r"(\d{4})[-/._]?(\d{1,2})(?:[-/.]?\d{1,2})?(?:[t ].*)?", re.ASCII)
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[t ,].*)?", re.ASCII)
_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{4})", re.ASCII)
# "June 2025", "JUN-25", "Jan-Feb-18" (a range: its first month), "2025 June".
_NAMED_MONTH = re.compile(r"([a-z]+)\.?(?:-[a-z]+)?[\s,/-]*('?\d{2}|\d{4})|(\d{4})[\s,/-]*([a-z]+)", re.ASCII)
# "Q1 2025", "Q1-25", "Q125" (Symphonic), "2025-Q1", "2025 Q1": the quarter's first month.
_QUARTER = re.compile(r"q([1-4])[\s/-]*('?\d{2}|\d{4})|(\d{4})[\s/-]*q([1-4])", re.ASCII)
# "2017M9" (The Orchard): year, "M", month.
_YEAR_M_MONTH = re.compile(r"(\d{4})m(\d{1,2})", re.ASCII)
# "P01 20(Jan 20)" (Ingrooves' fiscal period): the month named in the parentheses.
_PARENTHESISED = re.compile(r"\(([^)]+)\)")
_RANGE = re.compile(r"\s+(?:-|\u2013|\u2014|to|until)\s+")
_THOUSANDS_COMMA = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?", re.ASCII)
_PHYSICAL_WORDS = frozenset(("physical", "cd", "vinyl", "lp", "cassette"))
_TOTAL_WORDS = ("total", "totals", "subtotal", "grandtotal")
# What a "Total …" label may name after the word.
_TOTAL_OF = frozenset(
    (
        "amount",
        "revenue",
        "royalty",
        "royalties",
        "earnings",
        "units",
        "rows",
        "due",
        "payable",
        "net",
        "sales",
    )
)
_BALANCE_PHRASES = (
    "balance",
    "carried_forward",
    "brought_forward",
    "balance_carried_forward",
    "balance_brought_forward",
    "opening_balance",
    "closing_balance",
    "previous_balance",
)


@dataclass(frozen=True)
class ProfileSpec:
    """How to read one report layout; built from an `ImportProfile` by `from_model`."""

    slug: str
    name: str
    # our field → accepted header names, normalised with `normal_name`, in order of preference
    columns: MappingProxyType
    # the fields whose column must be in a header for the layout to be recognised
    required: tuple[str, ...]
    delimiter: str = ""  # "" = detect among DELIMITERS
    decimal_separator: str = ""  # "" = "," with ";"/tab/"|" delimiters, "." with ","
    date_order: str = "mdy"
    defaults: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    # normalised preamble key → our field (e.g. "currency" → currency, "start_date" → period)
    preamble: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    # normalised source sale type → one of SALE_TYPES (others: by keyword, then defaults)
    sale_types: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    void_values: frozenset = frozenset()  # normalised sale type / void values of reversals
    skip_values: frozenset = frozenset()  # normalised sale type values of rows that are no sales
    # normalised values that, in any cell of a row, mark it as no sale (a totals or trailer row)
    skip_markers: frozenset = frozenset()
    priority: int = 0

    @classmethod
    def from_model(cls, profile) -> "ProfileSpec":
        """From an `ImportProfile` (or anything with its attributes); raises ValueError naming
        what is wrong, which the model's `clean` shows in the admin."""
        return cls.build(
            slug=profile.slug,
            name=profile.name,
            columns=profile.columns,
            required=profile.required,
            delimiter=profile.delimiter,
            decimal_separator=profile.decimal_separator,
            date_order=profile.date_order,
            defaults=profile.defaults,
            preamble=profile.preamble,
            sale_types=profile.sale_types,
            void_values=profile.void_values,
            skip_values=profile.skip_values,
            skip_markers=profile.skip_markers,
            priority=profile.priority,
        )

    @classmethod
    def build(cls, **values) -> "ProfileSpec":
        columns = values.get("columns") or {}
        _check(isinstance(columns, dict), "columns must be an object: field → list of header names")
        for name, headers in columns.items():
            _check(name in FIELDS, f"columns: unknown field {name!r} (fields: {', '.join(FIELDS)})")
            _check(
                isinstance(headers, list)
                and headers
                and all(isinstance(h, str) and normal_name(h) for h in headers),
                f"columns: {name!r} needs a list of header names (with letters or digits)",
            )
        required = tuple(values.get("required") or ())
        for name in required:
            _check(name in columns, f"required: {name!r} has no column")
        _check(bool(required), "required: name at least one field whose column identifies the layout")
        defaults = values.get("defaults") or {}
        _check(isinstance(defaults, dict), "defaults must be an object: field → value")
        for name, value in defaults.items():
            _check(name in FIELDS and isinstance(value, str), f"defaults: {name!r} is not a field with text")
        if defaults.get("sale_type"):
            _check(defaults["sale_type"] in SALE_TYPES, f"defaults: sale_type must be one of {SALE_TYPES}")
        preamble = values.get("preamble") or {}
        _check(isinstance(preamble, dict), "preamble must be an object: key → field")
        for key, name in preamble.items():
            _check(name in FIELDS, f"preamble: {key!r} maps to unknown field {name!r}")
        sale_types = values.get("sale_types") or {}
        _check(isinstance(sale_types, dict), "sale_types must be an object: source type → our type")
        for key, name in sale_types.items():
            _check(name in SALE_TYPES, f"sale_types: {key!r} maps to {name!r}, not one of {SALE_TYPES}")
        delimiter = values.get("delimiter") or ""
        _check(delimiter in ("", *DELIMITERS), f"delimiter must be empty (detect) or one of {DELIMITERS}")
        decimal = values.get("decimal_separator") or ""
        _check(decimal in ("", ".", ","), "decimal_separator must be empty (detect), '.' or ','")
        date_order = values.get("date_order") or "mdy"
        _check(date_order in DATE_ORDERS, f"date_order must be one of {DATE_ORDERS}")
        for name in ("void_values", "skip_values", "skip_markers"):
            _check(isinstance(values.get(name) or [], list), f"{name} must be a list of values")
        return cls(
            slug=values["slug"],
            name=values.get("name") or values["slug"],
            columns=MappingProxyType(
                {
                    name: tuple(dict.fromkeys(normal_name(h) for h in headers))
                    for name, headers in columns.items()
                }
            ),
            required=required,
            delimiter=delimiter,
            decimal_separator=decimal,
            date_order=date_order,
            defaults=MappingProxyType(dict(defaults)),
            preamble=MappingProxyType({normal_name(k): v for k, v in preamble.items()}),
            sale_types=MappingProxyType({normal_name(k): v for k, v in sale_types.items()}),
            void_values=frozenset(normal_name(v) for v in values.get("void_values") or ()),
            skip_values=frozenset(normal_name(v) for v in values.get("skip_values") or ()),
            skip_markers=frozenset(filter(None, (normal_name(v) for v in values.get("skip_markers") or ()))),
            priority=int(values.get("priority") or 0),
        )


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@cache
def builtin_profiles() -> tuple[ProfileSpec, ...]:
    """The profiles shipped with the app (the fixture the data migration loads)."""
    records = json.loads(BUILTIN_FIXTURE.read_text(encoding="utf-8"))
    return tuple(ProfileSpec.build(**record["fields"]) for record in records)


# --- header and preamble names ------------------------------------------------------------------


def normal_name(name: str) -> str:
    """`Royalty ($US)` → `royalty_us`: lower case, every run of other characters one `_`."""
    return _NON_ALNUM.sub("_", name.strip().lower()).strip("_")


def header_keys(name: str) -> tuple[str, str]:
    """The normalised header name, and the same without a currency in it (`Royalty ($US)` →
    `royalty`, `Total_Payable_USD` → `total_payable`), so a profile can name either."""
    full = normal_name(name)
    bare = _PARENTHESES.sub(" ", name)
    if (code := currency_in_header(name)) is not None:
        bare = re.sub(rf"(?i)(?<![a-z]){code}(?![a-z])", " ", bare)
    return full, normal_name(bare)


def currency_in_header(name: str) -> str | None:
    """The ISO 4217 code a column header names, e.g. `Royalty ($US)`, `Earnings (USD)`."""
    for sign, code in _HEADER_SIGNS:
        if sign in name:
            return code
    inside = [part.strip(" ()").upper() for part in _PARENTHESES.findall(name)]
    for word in (*inside, *_UPPER_WORD.findall(name)):
        if len(word) == 3 and pycountry.currencies.get(alpha_3=word) is not None:
            return word
    return None


# --- value rules (each raises Reject with the user's reason) ----------------------------------


def period(raw: str, date_order: str = "mdy") -> str:
    """`YYYY-MM` of a month, a date, or a range's start: `2025-06`, `202506`, `2025-06-30`,
    `2025_06`, `06/30/2025` (or day first), `06/2025`, `June 2025`, `JUN-25`, `06/01/2025 - 06/30/2025`,
    `JAN-FEB-18`, a quarter (`Q2 2025`, `Q225`: its first month), `2017M9`, or a label with the
    month in parentheses (`P01 20(Jan 20)`)."""
    value = raw.strip().lower()
    start = _RANGE.split(value, maxsplit=1)[0] if len(value) > 10 else value
    result = _period(start, date_order)
    if result is None and (inside := _PARENTHESISED.search(value)):
        result = _period(inside.group(1).strip(), date_order)
    if result is None:
        raise reject("period_invalid", value=repr(raw))
    return result


def _period(value: str, date_order: str) -> str | None:
    year = month = None
    if match := _ISO_DATE.fullmatch(value):
        year, month = match.group(1), match.group(2)
    elif match := _NUMERIC_DATE.fullmatch(value):
        first, second, year = match.groups()
        month = first if date_order == "mdy" else second
        year = year if len(year) == 4 else f"20{year}"
    elif match := _MONTH_YEAR.fullmatch(value):
        month, year = match.groups()
    elif match := _YEAR_M_MONTH.fullmatch(value):
        year, month = match.groups()
    elif match := _QUARTER.fullmatch(value):
        quarter, year = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        )
        month = 3 * int(quarter) - 2
        year = year.lstrip("'")
        year = year if len(year) == 4 else f"20{year}"
    elif match := _NAMED_MONTH.fullmatch(value):
        name, year = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        month = _MONTHS.get(name)
        year = year.lstrip("'")
        year = year if len(year) == 4 else f"20{year}"
    if month is None or not 1 <= int(month) <= 12 or not "1900" <= year <= "2999":
        return None
    return f"{year}-{int(month):02d}"


def period_in_file_name(name: str) -> str:
    """A month named in a file name (`sales_2025-06.csv`, `202506_report.tsv`), or ""."""
    match = re.search(r"(?<!\d)(20\d\d)[-_.]?(0[1-9]|1[0-2])(?!\d)", name)
    return f"{match.group(1)}-{match.group(2)}" if match else ""


def territory(raw: str) -> str:
    """ISO 3166-1 alpha-2 from alpha-2, alpha-3, a numeric code or a name in English or one of
    `NAME_LANGUAGES` (pycountry and its translations);
    "Worldwide"/"WW" is `WW`; a variant code reports still send is mapped (`_VARIANTS`, then an
    ISO 3166-3 historic alpha-3 to its single successor); a value that names no country is
    `UNKNOWN_TERRITORY` (the line is kept: `unknown_territory` says so). Names match without
    accents, case or punctuation, "St." as "Saint", and by their first words when only one
    country starts so ("Russia" → Russian Federation, "Palestine" → Palestine, State of)."""
    value = raw.strip()
    upper = value.upper()
    if upper in _WORLDWIDE:
        return WORLDWIDE
    code = _VARIANTS.get(upper)
    if code is None and len(upper) in (2, 3) and upper.isascii() and upper.isalpha():
        country = pycountry.countries.get(**{f"alpha_{len(upper)}": upper})
        code = country.alpha_2 if country else _successor(upper)
    elif code is None and upper.isdigit():
        country = pycountry.countries.get(numeric=upper.zfill(3))
        code = country.alpha_2 if country else None
    elif code is None and value:
        code = _country_by_name(value)
    return code or UNKNOWN_TERRITORY


def unknown_territory(raw: str) -> str:
    """The warning for lines whose territory names no country (kept as `UNKNOWN_TERRITORY`)."""
    return f"territory {raw.strip()!r} is not an ISO 3166 country: kept as unknown ({UNKNOWN_TERRITORY})"


def _successor(alpha_3: str) -> str | None:
    """The country that replaced a withdrawn one (ISO 3166-3, via pycountry): its four-letter code
    ends with the successor's alpha-2 (ZAR, Zaire: ZRCD → CD), or HH/XX when there is no single
    successor (YUG, SUN: unknown)."""
    historic = pycountry.historic_countries.get(alpha_3=alpha_3)
    if historic is None:
        return None
    successor = pycountry.countries.get(alpha_2=historic.alpha_4[2:])
    return successor.alpha_2 if successor else None


_WORLDWIDE = frozenset((WORLDWIDE, "WORLDWIDE", "WORLD", "GLOBAL"))
UNKNOWN_TERRITORY = "ZZ"  # ISO 3166-1 user-assigned; DDEX and CLDR use ZZ for "unknown region"
# Codes outside ISO 3166-1's assigned ones that reports send, and where each comes from:
# - UK and EL are exceptionally reserved by ISO 3166/MA for the United Kingdom and Greece (EL is
#   the EU's code for Greece);
# - ROM was Romania's alpha-3 until ISO 3166-1 newsletter V-5 (2002) replaced it by ROU; it is
#   not in ISO 3166-3 (the country was not withdrawn), Symphonic still sends it;
# - XK/XKX is the user-assigned code the European Commission and DSPs use for Kosovo;
# - "N/A" and "Unknown" name no country: unknown (ZZ), like any value that names none.
_VARIANTS = {
    "UK": "GB",
    "EL": "GR",
    "ROM": "RO",
    "XK": "XK",
    "XKX": "XK",
    "KOSOVO": "XK",
    "N/A": UNKNOWN_TERRITORY,
    "UNKNOWN": UNKNOWN_TERRITORY,
    "ZZ": UNKNOWN_TERRITORY,
}


def _fold(name: str) -> str:
    letters = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c for c in letters if not unicodedata.combining(c))
    letters = re.sub(r"\bst\.?(?=\s)", "saint", letters)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", letters).split())


# Languages of the reports European labels receive besides English: a country's name in them is
# read too ("Germania", "Deutschland", "États-Unis"), from the ISO 3166 translations pycountry ships.
NAME_LANGUAGES = ("it", "de", "fr", "es", "pt", "nl")


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    english = [
        (name, country.alpha_2)
        for country in pycountry.countries
        for attribute in ("name", "official_name", "common_name")
        if (name := getattr(country, attribute, None))
    ]
    for name, code in english:
        names.setdefault(_fold(name), code)
    translated: dict[str, set[str]] = {}
    for language in NAME_LANGUAGES:
        catalogue = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
        )
        for name, code in english:
            translated.setdefault(_fold(catalogue.gettext(name)), set()).add(code)
    # A translated name that two countries share names neither; an English name stays its own.
    for name, codes in translated.items():
        if len(codes) == 1:
            names.setdefault(name, codes.pop())
    return names


def _country_by_name(value: str) -> str | None:
    folded = _fold(value)
    if not folded:
        return None
    names = _country_names()
    if folded in names:
        return names[folded]
    # "Russia" is the Russian Federation: a name's words may go on, or its word take an ending.
    starting = {
        code
        for name, code in names.items()
        if name.startswith(folded) and (name[len(folded) : len(folded) + 1] == " " or _ending(name, folded))
    }
    return starting.pop() if len(starting) == 1 else None


def _ending(name: str, folded: str) -> bool:
    word = name.split(" ", 1)[0]
    return " " not in folded and len(folded) >= 5 and word.startswith(folded) and len(word) - len(folded) <= 2


def currency(raw: str) -> str:
    """An ISO 4217 code, or the currency a calculation's result is written in: FUGA's "Sale net
    receipts calculation" ends with it (`$0.0027 x 100% of sale x 0.7957 £/$ = £`)."""
    value = raw.strip().upper()
    if (result := _RESULT_SIGN.search(value)) is not None:
        value = _SIGNS.get(result.group(1), value)
    if len(value) != 3 or not value.isalpha() or pycountry.currencies.get(alpha_3=value) is None:
        raise reject("currency_invalid", value=repr(raw))
    return value


def text(raw: str, name: str, *, required: bool = False) -> str:
    value = raw.strip()
    if not value.isprintable():
        value = " ".join(value.split())
        if "\x00" in value:
            raise reject("text_nul", field=name)
    if required and not value:
        raise reject("text_empty", field=name)
    if len(value) > MAX_TEXT[name]:
        raise reject("text_too_long", field=name, limit=MAX_TEXT[name])
    return value


ISRC_PATTERN = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")


def isrc(raw: str) -> str:
    value = raw.strip().upper().replace("-", "")
    if value and not ISRC_PATTERN.fullmatch(value):
        raise reject("isrc_invalid", value=repr(raw))
    return value


def upc(raw: str) -> str:
    """UPC/EAN digits; the spaces and hyphens a UPC is printed with (`602318 136992`, as Bandcamp's
    export keeps what the label typed) are not part of it."""
    value = raw.replace(" ", "").replace("-", "").strip()
    if value and not (value.isascii() and value.isdigit() and 8 <= len(value) <= 14):
        raise reject("upc_invalid", value=repr(raw))
    return value


def to_decimal(raw: str, decimal_comma: bool) -> Decimal:
    """A number as reports write it: `1234.5`, `1,234.50`, `1.234,50`, `0,05`, `-3`, `(3.50)`,
    `3.50-`, `$ 1.20`, `1 234,5`; raises InvalidOperation otherwise."""
    value = raw.strip().strip("$€£¥").strip()
    negative = False
    if value.startswith("(") and value.endswith(")"):
        value, negative = value[1:-1].strip(), True
    elif value.endswith("-") and not value.startswith("-"):
        value, negative = value[:-1], True
    value = value.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace("'", "")
    if not value or "_" in value:
        raise InvalidOperation
    comma, point = value.rfind(","), value.rfind(".")
    if comma >= 0 and point >= 0:
        # Both separators: whichever comes last is the decimal one.
        value = value.replace(".", "").replace(",", ".") if comma > point else value.replace(",", "")
    elif comma >= 0:
        if decimal_comma or (value.count(",") == 1 and not _THOUSANDS_COMMA.fullmatch(value.lstrip("+-"))):
            value = value.replace(",", ".")
        elif _THOUSANDS_COMMA.fullmatch(value.lstrip("+-")):
            value = value.replace(",", "")
        else:
            raise InvalidOperation
    elif decimal_comma and point >= 0 and value.count(".") > 1:
        value = value.replace(".", "")  # 1.234.567 with a decimal comma: thousands only
    number = Decimal(value)
    return -number if negative else number


_POINT_THOUSANDS = re.compile(r"[-+]?\d{1,3}(\.\d{3})+", re.ASCII)


def units(raw: str, decimal_comma: bool) -> str:
    if decimal_comma and _POINT_THOUSANDS.fullmatch(raw.strip()):
        raw = raw.replace(".", "")  # 1.234 units with a decimal comma: a thousands point
    try:
        if "_" in raw:
            raise ValueError
        count = int(raw)
    except ValueError:
        if not raw.strip():
            raise reject("units_empty") from None
        try:
            number = to_decimal(raw, decimal_comma)
        except (InvalidOperation, ValueError):
            raise reject("units_not_whole", value=repr(raw)) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise reject("units_not_whole", value=repr(raw)) from None
        count = int(number)
    if abs(count) >= UNITS_LIMIT:
        raise reject("units_out_of_range", value=repr(raw))
    return str(count)


def revenue(raw: str, decimal_comma: bool) -> str:
    try:
        amount = to_decimal(raw, decimal_comma)
    except (InvalidOperation, ValueError):
        raise reject("revenue_not_number", value=repr(raw)) from None
    if not amount.is_finite() or abs(amount) >= REVENUE_LIMIT:
        raise reject("revenue_out_of_range", value=repr(raw))
    return format(amount, "f")  # no exponent: "3.27362068463E-05" is written out


def negated(number: str) -> str:
    """The reversal of a units or revenue text that is not negative already (void rows)."""
    if number.startswith("-") or not Decimal(number):
        return number
    return "-" + number.lstrip("+")


def sale_type_of(raw: str, spec: ProfileSpec) -> str:
    """Our sale type for the source's own one: the profile's mapping, then keywords, then the
    profile's default, else "other"."""
    key = normal_name(raw)
    if key in spec.sale_types:
        return spec.sale_types[key]
    if "stream" in key:
        return "stream"
    if "download" in key:
        return "download"
    if _PHYSICAL_WORDS.intersection(key.split("_")):
        return "physical"
    return spec.defaults.get("sale_type") or "other"


# --- totals and carried balances inside a report ---------------------------------------------


def is_total_label(raw: str) -> bool:
    """A cell that labels a totals row: `Total`, `TOTAL:`, `Grand Total`, `Sub-total`,
    `Total USD`, `Total_Amount` (but not an artist called `Total Eclipse`)."""
    key = normal_name(raw)
    if not key:
        return False
    words = key.split("_")
    if words[0] in ("grand", "sub"):
        words = ["".join(words[:2]), *words[2:]]
    if words[0] not in _TOTAL_WORDS or len(words) > 2:
        return False
    return len(words) == 1 or words[1] in _TOTAL_OF or pycountry.currencies.get(alpha_3=words[1]) is not None


def is_balance_label(raw: str) -> bool:
    """A cell that labels a carried balance (`Balance carried forward`, `Opening balance`)."""
    key = normal_name(raw)
    return bool(key) and (key in _BALANCE_PHRASES or key.endswith(("_carried_forward", "_brought_forward")))
