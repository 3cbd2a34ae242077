from datetime import datetime, time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from project.errors import InvalidInput
from project.tokens import SCOPES, issue_api_token


def parse_expiry(value: str) -> datetime:
    """`2027-06-30` (end of that day, local time) or an ISO 8601 date-time."""
    moment = parse_datetime(value)
    if moment is None and (day := parse_date(value)) is not None:
        moment = datetime.combine(day, time.max)
    if moment is None:
        raise CommandError(f"--expires {value!r} is not a date (YYYY-MM-DD) or ISO 8601 date-time")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Create a scoped API token for a user and print only the token (it is stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            dest="scopes",
            help=f"<{'|'.join(SCOPES)}>:<read|write>; repeat for several APIs (write implies read).",
        )
        parser.add_argument("--expires", help="Expiry: YYYY-MM-DD (end of day) or an ISO 8601 date-time.")

    def handle(self, *args, username: str, name: str, scopes: list[str], expires: str | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive")
        expires_at = parse_expiry(expires) if expires else None
        if expires_at is not None and expires_at <= timezone.now():
            raise CommandError(f"--expires {expires!r} is in the past")
        try:
            _, raw = issue_api_token(user=user, name=name, scopes=scopes, expires_at=expires_at)
        except InvalidInput as exc:
            raise CommandError("; ".join(exc.problems)) from None
        self.stdout.write(raw)
