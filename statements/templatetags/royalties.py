"""`{% royalty_card run %}`: the royalty statements card of the run page (statements.royalties)."""

from django import template

from statements.models import StatementRun
from statements.royalties.models import RoyaltyRun
from statements.royalties.selectors import latest_archive

register = template.Library()


@register.inclusion_tag("statements/royalty_card.html", takes_context=True)
def royalty_card(context, run: StatementRun) -> dict:
    finalized = RoyaltyRun.objects.filter(run=run).first()
    return {
        "run": run,
        "finalized": finalized,
        "archive": latest_archive(run),
        "csrf_token": context.get("csrf_token"),
    }
