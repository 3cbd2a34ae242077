"""Run, or resume after a failure, the session of a day in this process."""

from django.core.management.base import BaseCommand, CommandError

from sessions_app import run, selectors, services
from sessions_app.management.commands._options import add_date_argument, parse_day
from sessions_app.models import Session


class Command(BaseCommand):
    help = (
        "Run the session of --date (default today) here, starting it first if the day is eligible. "
        "A failed session resumes where it stopped; a CSV already uploaded is never uploaded again."
    )

    def add_arguments(self, parser):
        add_date_argument(parser)

    def handle(self, *args, day=None, **options):
        day = parse_day(day)
        session = selectors.session_for_day(day)
        try:
            if session is None:
                session = services.start_session(day=day, enqueue=False)
                self.stdout.write(f"session {day} started")
            session = run.run_session(session_id=session.pk, report=self.stdout.write)
        except services.SessionError as exc:
            raise CommandError(str(exc)) from None
        status = selectors.day_status(day)
        self.stdout.write(f"{status.status_line}. {status.phase}")
        if session.status != Session.Status.SUCCEEDED:
            raise CommandError(f"session {day} {session.status}: {session.failure_reason}")
