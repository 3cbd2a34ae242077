from django.apps import AppConfig


class IngestionConfig(AppConfig):
    """Invoice files from the inbound FTP server: download, parse, validate, store, email."""

    name = "ingestion"
