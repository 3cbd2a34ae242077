from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    """The Settle JSON API: settlement structures, aggregation, settle, clear, history."""

    name = "settlement"
    verbose_name = _("Settlement")
