"""Close the session of a day (force-close one whose run has not succeeded)."""

from django.core.management.base import BaseCommand, CommandError

from sessions_app import services
from sessions_app.management.commands._options import add_date_argument, parse_day


class Command(BaseCommand):
    help = (
        "Close the session of --date (default today); --force closes one that has not processed everything."
    )

    def add_arguments(self, parser):
        add_date_argument(parser)
        parser.add_argument(
            "--force", action="store_true", help="Close even though not all records were processed."
        )

    def handle(self, *args, day=None, force=False, **options):
        day = parse_day(day)
        try:
            session = services.close_session(day=day, force=force)
        except services.SessionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"session {day} {'force-closed' if session.force_closed else 'closed'}")
