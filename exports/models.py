"""Models of the exports app."""

from django.db import models  # noqa: F401
