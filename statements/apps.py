from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    """Royalty statement runs built from DSP sales files."""

    name = "statements"
    verbose_name = _("Royalty statements")

    def ready(self) -> None:
        checks.register(check_revenue_basis_setting)


def check_revenue_basis_setting(**kwargs) -> list[checks.CheckMessage]:
    """STATEMENTS_DSR_REVENUE_BASIS names known bases (a typo would fail every DSR file)."""
    from statements.cleaners.dsr import bases_by_profile

    try:
        bases_by_profile(settings.STATEMENTS_DSR_REVENUE_BASIS)
    except ValueError as exc:
        return [checks.Error(f"STATEMENTS_DSR_REVENUE_BASIS: {exc}", id="statements.E001")]
    return []
