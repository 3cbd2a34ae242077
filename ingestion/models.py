"""Models of the ingestion app."""

from django.db import models  # noqa: F401
