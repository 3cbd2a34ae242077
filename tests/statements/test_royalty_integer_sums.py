"""The draft's pass over the lines summed in exact integers where every amount fits a bigint
(issue 23 item 9, `calculation.INTEGER_AMOUNTS`): the same figures as NUMERIC sums, value and
scale, and NUMERIC sums whenever an amount could not fit."""

import pytest
from django.db import transaction

from statements.royalties import calculation
from statements.royalties.calculation import compute
from tests.statements.test_royalty_detail import deals, generated_run, generated_sales
from tests.statements.test_royalty_shared_pass import figures_as_text

pytestmark = pytest.mark.django_db


def figures(run, monkeypatch, *, numeric: bool) -> tuple[list, list, str]:
    """Breakdown rows and payees' figures as text (a different scale shows), and the amounts used."""
    used = []
    amounts = calculation._amounts

    def spied(cursor, staged):
        chosen = calculation.NUMERIC_AMOUNTS if numeric else amounts(cursor, staged)
        used.append("numeric" if chosen is calculation.NUMERIC_AMOUNTS else "integer")
        return chosen

    monkeypatch.setattr(calculation, "_amounts", spied)
    with transaction.atomic():
        breakdowns, statements, _shared = figures_as_text(compute(run))
    return breakdowns, statements, used[0]


def sales_with(*extra: str) -> str:
    return generated_sales(300) + "".join(f"{line}\n" for line in extra)


def test_integer_sums_give_the_numeric_figures_to_the_last_digit(flow, monkeypatch):
    deals()
    # Revenues of 4 and 9 decimals and a whole one: the sums' scales differ from group to group.
    run = generated_run(
        flow,
        sales_with(
            "2026-08,Spotify,Ana,NLA012600001,8712345678902,Song,NL,3,0.123456789,EUR,stream",
            "2026-09,YouTube,Bo,NLB012600001,8712345678902,Song,JP,2,7,USD,download",
        ),
    )
    integer = figures(run, monkeypatch, numeric=False)
    assert integer[2] == "integer"
    assert integer[:2] == figures(run, monkeypatch, numeric=True)[:2]


@pytest.mark.parametrize("revenue", ["912345678901.25", "0.1234567890123456789"])
def test_an_amount_that_could_pass_a_bigint_is_summed_in_numeric(flow, monkeypatch, revenue):
    deals()
    line = f"2026-08,Spotify,Ana,NLA012600001,8712345678902,Song,NL,3,{revenue},EUR,stream"
    run = generated_run(flow, sales_with(line))
    chosen = figures(run, monkeypatch, numeric=False)
    assert chosen[2] == "numeric"
    assert chosen[:2] == figures(run, monkeypatch, numeric=True)[:2]
