"""The `--date YYYY-MM-DD` option shared by the session commands (default: today in TIME_ZONE)."""

from datetime import date

from django.core.management.base import CommandError

from sessions_app import services


def add_date_argument(parser) -> None:
    parser.add_argument("--date", dest="day", help="Session day as YYYY-MM-DD (default: today in TIME_ZONE).")


def parse_day(value: str | None) -> date:
    if not value:
        return services.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, got {value!r}") from None
