from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Moneybird purchase-invoice and receipt sync, mutation tracking and xlsx exports."""

    name = "exports"
    verbose_name = _("Moneybird exports")
