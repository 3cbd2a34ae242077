from django.apps import AppConfig


class SettlementConfig(AppConfig):
    """The Settle JSON API: settlement structures, aggregation, settle, clear, history."""

    name = "settlement"
