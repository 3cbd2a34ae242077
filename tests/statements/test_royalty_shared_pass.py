"""A draft's pass over many lines shared among database connections (issue 23 item 9,
`statements/royalties/parallel.py`): the figures of one pass to the last digit (values and their
scale), through the draft a user sees too, and never shared by a transaction that has written
something (the other connections would not read it)."""

from decimal import Decimal as D

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from statements.royalties import parallel, selectors
from statements.royalties.calculation import BREAKDOWN_ROWS, compute
from statements.royalties.models import Contract, RoyaltyStatementSet
from tests.servers import free_port
from tests.statements.test_royalty_detail import deals, generated_run, generated_sales

# Other connections read committed rows only: the test's data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


class _RolledBack(Exception):
    pass


def computed(run) -> tuple[list, list, bool]:
    """The breakdown rows and every payee's figures as text (a different scale shows), and whether
    the pass was shared, from `compute` in a transaction of its own."""
    with transaction.atomic():
        result = compute(run)
        return figures_as_text(result)


def figures_as_text(result) -> tuple[list, list, bool]:
    """What `compute` left staged and returned, as text; whether its pass was shared."""
    with connection.cursor() as cursor:
        cursor.execute(f"{BREAKDOWN_ROWS} ORDER BY 1, 2, 3")
        breakdowns = [tuple(map(str, row)) for row in cursor.fetchall()]
        cursor.execute("SELECT to_regclass('pg_temp.royalty_breakdown_shares') IS NOT NULL")
        shared = cursor.fetchone()[0]
    statements = [
        (
            s.payee.pk,
            sorted((c, str(v)) for c, v in s.earnings_by_contract.items()),
            sorted((c, str(v)) for c, v in s.held_by_contract.items()),
            str(s.total("payable")),
            str(s.carried_forward),
        )
        for s in result.statements
    ]
    assert breakdowns and statements
    return breakdowns, statements, shared


@pytest.fixture
def run(flow):
    deals()
    return generated_run(flow, generated_sales(600))


def test_a_pass_shared_among_connections_gives_the_figures_of_one_pass(run, settings):
    settings.ROYALTY_DRAFT_CONNECTIONS = 1
    breakdowns, statements, shared = computed(run)
    assert not shared
    settings.ROYALTY_DRAFT_SPLIT_LINES = 1
    for count in (2, 3):
        settings.ROYALTY_DRAFT_CONNECTIONS = count
        assert computed(run) == (breakdowns, statements, True)


def test_below_the_threshold_one_connection_does_the_pass(run, settings):
    settings.ROYALTY_DRAFT_CONNECTIONS = 3
    settings.ROYALTY_DRAFT_SPLIT_LINES = 601
    assert not computed(run)[2]
    settings.ROYALTY_DRAFT_SPLIT_LINES = 600
    assert computed(run)[2]


def test_the_draft_a_user_sees_is_the_same_when_its_pass_is_shared(run, settings, monkeypatch):
    settings.ROYALTY_DRAFT_CONNECTIONS = 1
    alone = selectors.run_statements(run)
    RoyaltyStatementSet.objects.filter(run=run).delete()
    settings.ROYALTY_DRAFT_CONNECTIONS = 2
    settings.ROYALTY_DRAFT_SPLIT_LINES = 1
    shares = []
    create = parallel.create_from_shares
    monkeypatch.setattr(
        parallel, "create_from_shares", lambda *a, **k: shares.append(k["shares"]) or create(*a, **k)
    )
    assert selectors.run_statements(run) == alone
    assert shares == [2]


def test_a_transaction_that_wrote_does_the_pass_alone_and_reads_what_it_wrote(run, settings):
    settings.ROYALTY_DRAFT_CONNECTIONS = 2
    settings.ROYALTY_DRAFT_SPLIT_LINES = 1
    before = computed(run)
    try:
        with transaction.atomic():
            Contract.objects.filter(name="Bo deal").update(rate_stream=D("0.5"))
            uncommitted = figures_as_text(compute(run))
            raise _RolledBack
    except _RolledBack:
        pass
    assert not uncommitted[2]
    Contract.objects.filter(name="Bo deal").update(rate_stream=D("0.5"))
    committed = computed(run)
    assert committed[2]
    assert uncommitted[:2] == committed[:2] != before[:2]


def test_in_a_savepoint_the_pass_is_not_shared(run, settings):
    settings.ROYALTY_DRAFT_CONNECTIONS = 2
    settings.ROYALTY_DRAFT_SPLIT_LINES = 1
    with transaction.atomic(), transaction.atomic():
        assert not figures_as_text(compute(run))[2]


def test_when_no_connection_can_be_opened_one_connection_does_the_pass(run, settings, monkeypatch):
    settings.ROYALTY_DRAFT_CONNECTIONS = 1
    alone = computed(run)
    settings.ROYALTY_DRAFT_CONNECTIONS = 3
    settings.ROYALTY_DRAFT_SPLIT_LINES = 1
    database = connections[DEFAULT_DB_ALIAS]
    params = database.get_connection_params()
    # A port nothing listens on: the server side of a refused connection, as at max_connections.
    monkeypatch.setattr(
        database, "get_connection_params", lambda: {**params, "host": "127.0.0.1", "port": free_port()}
    )
    assert computed(run) == alone
