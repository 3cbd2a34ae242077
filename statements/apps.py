from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    """Royalty statement runs built from DSP sales files."""

    name = "statements"
    verbose_name = _("Royalty statements")
