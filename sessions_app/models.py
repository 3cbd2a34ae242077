"""Models of the sessions_app app."""

from django.db import models  # noqa: F401
