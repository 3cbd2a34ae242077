"""Write import profiles as JSON, for another installation's import_import_profiles."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from project.errors import NotFound
from statements import selectors


class Command(BaseCommand):
    help = (
        "Write import profiles as JSON (the built-in fixture's shape): the slugs named, else every "
        "profile added in this installation (--builtin: the built-in ones too)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="profiles to export (default: all added here)")
        parser.add_argument("--builtin", action="store_true", help="also the built-in profiles")
        parser.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")

    def handle(self, *args, slugs: list[str], builtin: bool, output: str, **options):
        try:
            records = selectors.profiles_for_export(slugs=slugs, builtin=builtin)
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        text = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
        if output == "-":
            sys.stdout.write(text)
        else:
            with open(output, "w", encoding="utf-8") as out:
                out.write(text)
        self.stderr.write(f"{len(records)} import profile(s) exported")
