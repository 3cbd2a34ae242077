"""Statements as data: every figure as {"amount": rounded once, half-even, "exact": unrounded}.

Read from the rows a statement set keeps (`storage`), for the API, the pages and the PDF and xlsx
documents, so they can never disagree. The run's data lists each payee's summary; one payee's
statement adds the breakdowns (their contracts' breakdowns times their share) and the line detail
(their groups of lines times their share, written by `storage.write_line_detail` before it is
read), multiplied exactly in SQL.
"""

from decimal import Decimal

from django.conf import settings
from django.db import connection

from project.money import exact_text, rounded
from statements.models import SalesFile
from statements.royalties import fx
from statements.royalties.models import PayeeRate, RoyaltyStatement, RoyaltyStatementSet

SUMMARY = ("opening", "earnings", "reserve_held", "reserve_released", "recouped", "closing", "payable")
BREAKDOWNS = {"by_dsp": "dsp", "by_month": "period", "by_territory": "territory", "by_track": "isrc"}
LINE_FIELDS = (
    "contract_id",
    "sale_type",
    "dsp",
    "territory",
    "period",
    "isrc",
    "title",
    "lines",
    "units",
    "base",
    "rate",
    "share",
)
# A payee's groups of lines with their share: the FROM and WHERE of the queries below.
PAYEE_GROUPS = """
FROM statements_royaltystatementgroup g JOIN statements_royaltystatementshare s
  ON s.statement_set_id = g.statement_set_id AND s.contract_id = g.contract_id
WHERE s.statement_set_id = %s AND s.payee_id = %s
"""
SUSPENSE_FIELDS = (
    "artist",
    "isrc",
    "upc",
    "title",
    "dsp",
    "period",
    "lines",
    "units",
    "revenue",
    "label_income",
)
EARNINGS = "g.base * g.rate * s.share * 0.01"  # share is a percent; * 0.01 stays exact, / 100 may not
# A payee's breakdown by one dimension: their contracts' breakdowns times their share.
BREAKDOWN_SQL = """
SELECT b.name, sum(b.earnings * s.share * 0.01), max(b.title)
FROM statements_royaltystatementbreakdown b JOIN statements_royaltystatementshare s
  ON s.statement_set_id = b.statement_set_id AND s.contract_id = b.contract_id
WHERE s.statement_set_id = %s AND s.payee_id = %s AND b.dimension = %s
GROUP BY 1 ORDER BY 1
"""


def figure(amount: Decimal, currency: str) -> dict:
    return {"amount": str(rounded(amount, currency)), "exact": exact_text(amount)}


def label() -> dict:
    """The label the statements come from (settings ROYALTY_LABEL_NAME, _ADDRESS, _LOGO)."""
    return {
        "name": settings.ROYALTY_LABEL_NAME,
        "address": settings.ROYALTY_LABEL_ADDRESS,
        "logo": settings.ROYALTY_LABEL_LOGO,
    }


def run_statements_data(kept: RoyaltyStatementSet, figures: dict) -> dict:
    """The run's statements: each payee's summary and balances, the unmatched (suspense) groups
    (`figures`, `statements_figures(kept)` as kept with the set), with the run and the files named as
    they are now."""
    currency = kept.run.currency
    return {
        "run": run_data(kept),
        "sequence": kept.sequence,
        "problems": kept.problems,
        **figures,
        "revenue_total": figure(kept.revenue, currency),
        "already_allocated_lines": kept.already_allocated,
        "duplicates": _duplicates_data(kept.duplicates, currency),
    }


def statements_figures(kept: RoyaltyStatementSet) -> dict:
    """What the run's statements show of `kept`'s rows that takes long to build (each payee's
    summary and balances, the unmatched groups and their totals): the same for every view of these
    rows, in any language (figures are text, formatted by the page that shows them)."""
    currency = kept.run.currency
    rates = exchange_rates(kept)
    unallocated, label_income = [], []
    for group in kept.suspense.order_by("artist", "isrc", "upc", "dsp", "period").values(*SUSPENSE_FIELDS):
        kept_by_label = group.pop("label_income")
        (label_income if kept_by_label else unallocated).append(
            {**group, "revenue": figure(group["revenue"], currency)}
        )
    return {
        "statements": [summary_data(row, currency, rates) for row in kept.statements.order_by("position")],
        "unallocated": unallocated,
        "unallocated_total": figure(_total(unallocated), currency),
        "label_income": label_income,
        "label_income_total": figure(_total(label_income), currency),
    }


def run_data(kept: RoyaltyStatementSet) -> dict:
    """The run the statements `kept` are of, as the statements show it."""
    run = kept.run
    return {
        "id": run.pk,
        "name": run.name,
        "currency": run.currency,
        "finalized": kept.royalty_run_id is not None,
        "period": {"first": kept.period_first, "last": kept.period_last},
    }


def _total(groups: list[dict]) -> Decimal:
    return sum((Decimal(g["revenue"]["exact"]) for g in groups), Decimal(0))


def _duplicates_data(duplicates: list[dict], currency: str) -> list[dict]:
    """The lines left out as paid from, or held by, an earlier file: per file, that file named."""
    ids = {d[key] for d in duplicates for key in ("sales_file_id", "earlier_file_id")}
    names = dict(SalesFile.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [
        {
            "file": {"id": d["sales_file_id"], "name": names.get(d["sales_file_id"], "")},
            "earlier_file": {"id": d["earlier_file_id"], "name": names.get(d["earlier_file_id"], "")},
            "lines": d["lines"],
            "revenue": figure(Decimal(d["revenue"]), currency),
        }
        for d in duplicates
    ]


def exchange_rates(kept: RoyaltyStatementSet) -> dict[str, PayeeRate]:
    """The run's payee currency rates by currency (frozen once the run is finalised)."""
    return {rate.currency: rate for rate in PayeeRate.objects.filter(run_id=kept.run_id)}


def summary_data(row: RoyaltyStatement, run_currency: str, rates: dict[str, PayeeRate] | None = None) -> dict:
    """A payee's statement without its breakdowns and lines: its figures in the payee's currency
    (`currency`), the earnings also in the run's (`run_currency`) and the rate between them."""
    currency = row.currency
    summary = {name: figure(getattr(row, name), currency) for name in (*SUMMARY, "carried_forward")}
    exchange = None
    if row.fx_rate is not None:
        quoted = (rates if rates is not None else exchange_rates(row.statement_set)).get(currency)
        exchange = {
            "from": run_currency,
            "to": currency,
            "rate": exact_text(row.fx_rate),
            "source": quoted.source if quoted else "",
            "date": quoted.date.isoformat() if quoted else "",
        }
    return {
        "payee": row.payee_details,
        "currency": currency,
        "run_currency": run_currency,
        "exchange": exchange,
        "run_earnings": figure(row.run_earnings, run_currency),
        "summary": summary,
        # Unknown for runs finalised before the outstanding balance was kept.
        "advances": None
        if row.outstanding is None
        else {
            "outstanding": figure(row.outstanding, currency),
            "recouped": figure(row.recouped, currency),
            "remaining": figure(row.outstanding - row.recouped, currency),
        },
        "balances": [
            {"pool": b["pool"], **{name: figure(Decimal(b[name]), currency) for name in SUMMARY}}
            for b in row.balances
        ],
    }


def payee_statement_data(row: RoyaltyStatement, currency: str, *, lines: bool = True) -> dict:
    """A payee's whole statement: summary, balances, breakdowns and (unless `lines=False`) every line."""
    data = summary_data(row, currency)
    for name, key in BREAKDOWNS.items():
        data[name] = _breakdown(row, key, currency)
    if lines:
        data["lines"] = PayeeLines(row, currency)[:]
    return data


def _breakdown(row: RoyaltyStatement, key: str, currency: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(BREAKDOWN_SQL, [row.statement_set_id, row.payee_id, key])
        found = cursor.fetchall()
    items = []
    for name, amount, title in found:
        item = {"name": name, **_earnings(row, amount, currency)}
        if key == "isrc":
            item["title"] = title
        items.append(item)
    return items


def _earnings(row: RoyaltyStatement, amount: Decimal, run_currency: str) -> dict:
    """Earnings of a breakdown or line, computed in the run's currency: in the payee's, and (when
    they differ) also as computed, `run_earnings`."""
    if row.fx_rate is None:
        return {"earnings": figure(amount, run_currency)}
    return {
        "earnings": figure(fx.convert(amount, row.fx_rate), row.currency),
        "run_earnings": figure(amount, run_currency),
    }


class PayeeLines:
    """A payee's line detail, read a slice at a time (what `Paginator` needs: count() and slices)."""

    def __init__(self, row: RoyaltyStatement, currency: str):
        self.params = [row.statement_set_id, row.payee_id]
        self.currency = currency
        self.row = row

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) {PAYEE_GROUPS}", self.params)
            return cursor.fetchone()[0]

    def __getitem__(self, window: slice) -> list[dict]:
        start = window.start or 0
        limit = "ALL" if window.stop is None else int(window.stop - start)
        columns = ", ".join(f"s.{name}" if name == "share" else f"g.{name}" for name in LINE_FIELDS)
        sql = (
            f"SELECT {columns}, {EARNINGS} {PAYEE_GROUPS} ORDER BY g.contract_id, g.sale_type, g.dsp,"
            f" g.territory, g.period, g.isrc LIMIT {limit} OFFSET {int(start)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params)
            found = cursor.fetchall()
        lines = []
        for *values, earnings in found:
            line = dict(zip(LINE_FIELDS, values, strict=True))
            for name in ("base", "rate", "share"):
                line[name] = exact_text(line[name])
            line.update(_earnings(self.row, earnings, self.currency))
            lines.append(line)
        return lines
