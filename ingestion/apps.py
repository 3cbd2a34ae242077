from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestionConfig(AppConfig):
    """Invoice files from the inbound FTP server: download, parse, validate, store, email."""

    name = "ingestion"
    verbose_name = _("Invoice ingestion")
