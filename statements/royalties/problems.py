"""What stops a run's statements from being finalised, as the draft stores it: English sentences
(the API's language, kept in RoyaltyStatementSet.problems) written from these templates, so that a
page shows each in the reader's language (`problem_text`)."""

from django.utils.translation import gettext_lazy as _

from project.stored_text import Catalogue, Text

PROBLEMS = Catalogue(
    {
        "splits_total": _("Contract “%(contract)s”: splits add up to %(total)s %%, not 100 %%."),
        "payee_rates_missing": _(
            "No exchange rate from %(currency)s for the payee currencies %(currencies)s: enter them "
            "under payee currency rates on the run page. Payees left out until then: %(payees)s."
        ),
    }
)


def problem(code: str, **params: str) -> str:
    """The stored (English) sentence of a problem."""
    return PROBLEMS.english(Text(code, params))


def problem_text(stored: str) -> str:
    """A stored problem in the reader's language (as stored when no template matches it)."""
    return PROBLEMS.translated(stored)


def refusal_code(stored: list[str]) -> str:
    """The API's code for a finalisation these problems refuse: `payee_rates_missing` when rates
    are all that is missing, else `splits_invalid` (the contracts' splits)."""
    codes = {getattr(PROBLEMS.matched(problem), "code", "") for problem in stored}
    return "payee_rates_missing" if codes == {"payee_rates_missing"} else "splits_invalid"
