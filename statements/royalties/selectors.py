"""Reads of royalty accounting: a run's statements (as finalised, or computed now for a draft)."""

from decimal import Decimal

from project.errors import NotFound
from project.money import EXACT
from statements.models import StatementRun
from statements.royalties.calculation import compute
from statements.royalties.models import RoyaltyArchive, RoyaltyRun
from statements.royalties.presentation import figure, run_statements_data


def run_statements(run: StatementRun) -> dict:
    """The statements of `run`: a finalised run's as posted, a draft's computed from today's data."""
    finalized = RoyaltyRun.objects.filter(run=run).only("document").first()
    if finalized is not None:
        return finalized.document
    return run_statements_data(compute(run), finalized=False)


def totals(data: dict) -> dict:
    """A run's statements in a few figures (the finalise confirmation): payees, what is payable
    now, what is carried forward, the unmatched (suspense) revenue and its share of the revenue."""
    currency = data["run"]["currency"]
    statements = data["statements"]

    def total(name: str) -> Decimal:
        amount = Decimal(0)
        for statement in statements:
            amount = EXACT.add(amount, Decimal(statement["summary"][name]["exact"]))
        return amount

    unmatched = Decimal(data["unallocated_total"]["exact"])
    revenue = Decimal(data["revenue_total"]["exact"]) if "revenue_total" in data else None
    share = EXACT.divide(EXACT.multiply(unmatched, 100), revenue) if revenue else None
    return {
        "currency": currency,
        "payees": len(statements),
        "payees_paid": sum(1 for s in statements if Decimal(s["summary"]["payable"]["exact"]) > 0),
        "payable": figure(total("payable"), currency),
        "carried_forward": figure(total("carried_forward"), currency),
        "unmatched": data["unallocated_total"],
        "unmatched_groups": len(data["unallocated"]),
        "unmatched_percent": None if share is None else share.quantize(Decimal("0.1")),
        "revenue": data.get("revenue_total"),
        "problems": data["problems"],
    }


REVIEW_COLUMNS = (
    "opening",
    "earnings",
    "reserve_held",
    "reserve_released",
    "recouped",
    "closing",
    "payable",
    "carried_forward",
)
UNMATCHED_SHOWN = 50  # the largest groups on the review page; the API lists them all


def review(data: dict) -> dict:
    """The per-payee table of a run's statements (REVIEW_COLUMNS) with its totals, and the largest
    unmatched groups first."""
    currency = data["run"]["currency"]
    statements = data["statements"]
    columns_total = []
    for name in REVIEW_COLUMNS:
        amount = Decimal(0)
        for statement in statements:
            amount = EXACT.add(amount, Decimal(statement["summary"][name]["exact"]))
        columns_total.append(figure(amount, currency))
    unmatched = sorted(data["unallocated"], key=lambda group: -Decimal(group["revenue"]["exact"]))
    return {
        "rows": [
            {"payee": s["payee"], "figures": [s["summary"][name] for name in REVIEW_COLUMNS]}
            for s in statements
        ],
        "totals": columns_total,
        "unmatched": unmatched[:UNMATCHED_SHOWN],
        "unmatched_more": max(len(unmatched) - UNMATCHED_SHOWN, 0),
    }


def payee_statement(data: dict, payee_id: int) -> dict:
    for statement in data["statements"]:
        if statement["payee"]["id"] == payee_id:
            return statement
    raise NotFound(
        f"payee {payee_id} has no statement in run #{data['run']['id']}", code="payee_statement_not_found"
    )


def is_finalized(run: StatementRun) -> bool:
    return RoyaltyRun.objects.filter(run=run).exists()


def archive(run: StatementRun, archive_id: int) -> RoyaltyArchive:
    found = RoyaltyArchive.objects.filter(run=run, pk=archive_id).first()
    if found is None:
        raise NotFound(f"run #{run.pk} has no statements zip {archive_id}", code="archive_not_found")
    return found


def latest_archive(run: StatementRun) -> RoyaltyArchive | None:
    return RoyaltyArchive.objects.filter(run=run).first()
