"""`{% royalty_card run %}`: the royalty statements card of the run page (statements.royalties);
`{{ rate|rate_percent }}`: a rate stored as a fraction ("0.125") shown as the percent "12.5 %"."""

from decimal import Decimal

from django import template

from project.money import exact_text
from statements.models import StatementRun
from statements.royalties.models import RoyaltyRun
from statements.royalties.selectors import latest_archive, run_statements

register = template.Library()


@register.inclusion_tag("statements/royalty_card.html", takes_context=True)
def royalty_card(context, run: StatementRun) -> dict:
    finalized = RoyaltyRun.objects.filter(run=run).first()
    return {
        "run": run,
        "finalized": finalized,
        "data": run_statements(run) if finalized else None,
        "archive": latest_archive(run),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def rate_percent(rate: str | Decimal) -> str:
    return f"{exact_text(Decimal(str(rate)).scaleb(2))} %"
