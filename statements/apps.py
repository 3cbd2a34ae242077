from django.apps import AppConfig


class StatementsConfig(AppConfig):
    """Royalty statement runs built from DSP sales files."""

    name = "statements"
