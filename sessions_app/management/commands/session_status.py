"""Print the state of a day's session: the operators' status line, or the JSON of /sessions/status/."""

import json

from django.core.management.base import BaseCommand

from sessions_app import selectors
from sessions_app.management.commands._options import add_date_argument, parse_day


class Command(BaseCommand):
    help = "Show the session of --date (default today): status line, phase and step log, or --json."

    def add_arguments(self, parser):
        add_date_argument(parser)
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the same JSON as /sessions/status/."
        )

    def handle(self, *args, day=None, as_json=False, **options):
        status = selectors.day_status(parse_day(day))
        if as_json:
            self.stdout.write(json.dumps(status.as_json(), indent=2))
            return
        self.stdout.write(status.status_line)
        self.stdout.write(status.phase)
        for step in status.steps:
            self.stdout.write(f"  {step.at:%Y-%m-%d %H:%M:%S} {step.label}: {step.outcome} {step.message}")
