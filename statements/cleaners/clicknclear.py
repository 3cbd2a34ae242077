"""ClicknClear's rightsholder royalty report: a CSV without a header row, whose rows say what they
are in their first two cells (ClicknClear/cnc-reporting-spec, README.md).

Row type `T` is a total of one income type: period start and end, number of sales, currency,
balance brought forward, amount due for the period, total due. Row type `S` is one sale (a
licence): its columns depend on the income type, `M` (master) or `P` (publishing); the spec gives no
layout for `PR` (producer fee), whose rows are rejected with that reason. A sale is one unit; its
money is the Amount Due to Rightsholder (the last column). The totals rows are structure: what
they declare is kept in `stats.declared` and checked against the sales (a warning if it differs).
"""

import csv
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

from project.money import EXACT
from statements.cleaners import profiles as rules
from statements.cleaners.base import Problem, Reject, Row, Stats
from statements.texts import rejected

FORMAT = "clicknclear"
DSP = "ClicknClear"
INCOME_TYPES = {"M": "Master", "P": "Publishing", "PR": "Producer fee"}
# The sale columns after the row and income types, as the spec names them.
MASTER = (
    "date",
    "licensee",
    "title",
    "performers",
    "isrc",
    "upc",
    "label",
    "territory",
    "currency",
    "gross",
    "refund",
    "tax",
    "net",
    "distributable",
    "margin",
    "due",
)
PUBLISHING = (
    "date",
    "licensee",
    "title",
    "performers",
    "writers",
    "iswc",
    "territory",
    "currency",
    "gross",
    "refund",
    "tax",
    "net",
    "distributable",
    "ownership",
    "fee",
    "margin",
    "due",
)
LAYOUTS = {"M": MASTER, "P": PUBLISHING}
TOTAL = ("start", "end", "sales", "currency", "brought_forward", "due", "total_due")


def looks_like_clicknclear(head: list[str]) -> bool:
    """Whether the first line is a ClicknClear total or sale row (`T,M,2023-01-01T…`)."""
    first = next((line for line in head if line.strip()), "")
    # The row and income types are plain codes: a split suffices (and reads any line length).
    cells = first.split(",")
    return len(cells) >= 2 + len(TOTAL) and cells[0] in ("T", "S") and cells[1] in INCOME_TYPES


def parse_clicknclear(lines: Iterator[str], stats: Stats) -> Iterator[Row | Problem]:
    """Rows and problems in file order; `stats.declared` gets each income type's totals row."""
    stats.detail = FORMAT
    declared: dict[str, dict] = {}
    found: dict[str, dict] = {}
    unknown: Counter[str] = Counter()  # a territory that names no country: the sale is kept (ZZ)
    reader = csv.reader(lines)
    for cells in reader:
        number = stats.lines = reader.line_num
        if not "".join(cells).strip():
            stats.structural += 1
            continue
        kind, income = [*cells, "", ""][:2]
        if kind == "T" and income in INCOME_TYPES and len(cells) == 2 + len(TOTAL):
            stats.structural += 1
            total = dict(zip(TOTAL, cells[2:], strict=True))
            declared[income] = {"sales": total["sales"], "currency": total["currency"], "due": total["due"]}
            continue
        layout = LAYOUTS.get(income) if kind == "S" else None
        if layout is None:
            yield rejected(number, "clicknclear_no_layout", kind=repr(kind), income=repr(income))
            continue
        if len(cells) != 2 + len(layout):
            yield rejected(
                number,
                "clicknclear_fields",
                income=INCOME_TYPES[income],
                expected=len(layout) + 2,
                count=len(cells),
            )
            continue
        sale = dict(zip(layout, cells[2:], strict=True))
        try:
            row = _row(number, income, sale)
        except Reject as exc:
            yield Problem(number, str(exc), False, *_money(sale), text=exc.text)
            continue
        if row[7] == rules.UNKNOWN_TERRITORY:
            unknown[rules.unknown_territory(sale["territory"])] += 1
        counted = found.setdefault(income, {"sales": 0, "due": Decimal(0)})
        counted["sales"] += 1
        counted["due"] = EXACT.add(counted["due"], Decimal(row[9]))
        yield row
    stats.warnings += [f"{what} on {count} line(s)" for what, count in unknown.items()]
    stats.declared.update({"totals": {INCOME_TYPES[k]: v for k, v in declared.items()}} if declared else {})
    for income, total in declared.items():
        counted = found.get(income, {"sales": 0, "due": Decimal(0)})
        try:
            matches = (
                int(Decimal(total["sales"])) == counted["sales"] and Decimal(total["due"]) == counted["due"]
            )
        except ArithmeticError:
            matches = False
        if not matches:
            stats.warnings.append(
                f"the {INCOME_TYPES[income]} totals row declares {total['sales']} sale(s) and {total['due']} due; "
                f"the sales rows hold {counted['sales']} and {counted['due']}"
            )


def _row(number: int, income: str, sale: dict[str, str]) -> Row:
    territory = rules.territory(sale["territory"])
    return (
        number,
        rules.period(sale["date"]),
        DSP,
        rules.text(sale["performers"], "artist"),
        _optional(rules.isrc, sale.get("isrc", "")),
        _optional(rules.upc, sale.get("upc", "")),
        rules.text(sale["title"], "title"),
        territory,
        "1",  # a sale is one licence
        rules.revenue(sale["due"], decimal_comma=False),
        rules.currency(sale["currency"]),
        "other",
        INCOME_TYPES[income],
        "",
        "",
    )


def _money(sale: dict[str, str]) -> tuple[str, str]:
    """(amount due as written, currency) of a rejected sale, for the reconciliation; ("", "") when
    the amount does not read."""
    try:
        amount = rules.revenue(sale["due"], decimal_comma=False)
    except Reject:
        return "", ""
    return amount, sale["currency"].strip().upper()[:3] or "?"


def _optional(check, raw: str) -> str:
    """A malformed identifier is left out; the sale keeps its money."""
    try:
        return check(raw)
    except Reject:
        return ""
