from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """Moneybird purchase-invoice and receipt sync, mutation tracking and xlsx exports."""

    name = "exports"
