"""Models of the statements app."""

from django.db import models  # noqa: F401
