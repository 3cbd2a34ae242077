"""Statements as data: every figure as {"amount": rounded once, half-even, "exact": unrounded}.

The same dictionary is served by the API, stored with a finalised run and rendered into the PDF
and xlsx documents, so they can never disagree.
"""

from collections import defaultdict
from decimal import Decimal

from project.money import EXACT, exact_text, rounded
from statements.models import SalesFile
from statements.royalties.calculation import PayeeStatement, RunStatements

SUMMARY = ("opening", "earnings", "reserve_held", "reserve_released", "recouped", "closing", "payable")


def figure(amount: Decimal, currency: str) -> dict:
    return {"amount": str(rounded(amount, currency)), "exact": exact_text(amount)}


def run_statements_data(result: RunStatements, *, finalized: bool) -> dict:
    run = result.run
    currency = run.currency
    return {
        "run": {"id": run.pk, "name": run.name, "currency": currency, "finalized": finalized},
        "sequence": result.sequence,
        "problems": result.problems,
        "statements": [_payee_data(statement, currency) for statement in result.statements],
        "unallocated": _groups(result.suspense, currency),
        "unallocated_total": figure(_sum(group["revenue"] for group in result.suspense), currency),
        "label_income": _groups(result.label_income, currency),
        "label_income_total": figure(_sum(group["revenue"] for group in result.label_income), currency),
        "revenue_total": figure(result.revenue, currency),
        "already_allocated_lines": result.already_allocated,
        "duplicates": _duplicates_data(result, currency),
    }


def _groups(groups: list[dict], currency: str) -> list[dict]:
    return [{**group, "revenue": figure(group["revenue"], currency)} for group in groups]


def _duplicates_data(result: RunStatements, currency: str) -> list[dict]:
    """The lines left out as paid from, or held by, an earlier file: per file, that file named."""
    ids = {d[key] for d in result.duplicates for key in ("sales_file_id", "earlier_file_id")}
    names = dict(SalesFile.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [
        {
            "file": {"id": d["sales_file_id"], "name": names.get(d["sales_file_id"], "")},
            "earlier_file": {"id": d["earlier_file_id"], "name": names.get(d["earlier_file_id"], "")},
            "lines": d["lines"],
            "revenue": figure(d["revenue"], currency),
        }
        for d in result.duplicates
    ]


def _payee_data(statement: PayeeStatement, currency: str) -> dict:
    payee = statement.payee
    summary = {name: figure(statement.total(name), currency) for name in SUMMARY}
    summary["carried_forward"] = figure(statement.carried_forward, currency)
    return {
        "payee": {
            "id": payee.pk,
            "name": payee.name,
            "email": payee.email,
            "minimum_payout": exact_text(payee.minimum_payout),
        },
        "currency": currency,
        "summary": summary,
        "balances": [
            {"pool": pool.key, **{name: figure(getattr(pool, name), currency) for name in SUMMARY}}
            for pool in statement.pools.values()
        ],
        "by_dsp": _breakdown(statement, "dsp", currency),
        "by_month": _breakdown(statement, "period", currency),
        "by_territory": _breakdown(statement, "territory", currency),
        "by_track": _breakdown(statement, "isrc", currency),
        "lines": [
            {
                "contract_id": row.contract_id,
                "sale_type": row.sale_type,
                "dsp": row.dsp,
                "territory": row.territory,
                "period": row.period,
                "isrc": row.isrc,
                "title": row.title,
                "lines": row.lines,
                "units": row.units,
                "base": exact_text(row.base),
                "rate": exact_text(row.rate),
                "share": exact_text(row.share),
                "earnings": figure(row.exact, currency),
            }
            for row in statement.rows
        ],
    }


def _breakdown(statement: PayeeStatement, key: str, currency: str) -> list[dict]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    titles: dict[str, str] = {}
    for row in statement.rows:
        name = getattr(row, key)
        sums[name] = EXACT.add(sums[name], row.exact)
        titles.setdefault(name, row.title)
    items = []
    for name in sorted(sums):
        item = {"name": name, "earnings": figure(sums[name], currency)}
        if key == "isrc":
            item["title"] = titles[name]
        items.append(item)
    return items


def _sum(amounts) -> Decimal:
    total = Decimal(0)
    for amount in amounts:
        total = EXACT.add(total, amount)
    return total
