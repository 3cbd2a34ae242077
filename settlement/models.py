"""Models of the settlement app."""

from django.db import models  # noqa: F401
