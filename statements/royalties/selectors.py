"""Reads of royalty accounting: a run's statements (as finalised, or computed now for a draft)."""

from project.errors import NotFound
from statements.models import StatementRun
from statements.royalties.calculation import compute
from statements.royalties.models import RoyaltyArchive, RoyaltyRun
from statements.royalties.presentation import run_statements_data


def run_statements(run: StatementRun) -> dict:
    """The statements of `run`: a finalised run's as posted, a draft's computed from today's data."""
    finalized = RoyaltyRun.objects.filter(run=run).only("document").first()
    if finalized is not None:
        return finalized.document
    return run_statements_data(compute(run), finalized=False)


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
