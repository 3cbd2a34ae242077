"""Read import profiles exported by export_import_profiles (another installation's, or ours)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from project.errors import InvalidInput
from statements import services


class Command(BaseCommand):
    help = (
        "Create or update import profiles (by slug) from a JSON file written by export_import_profiles; "
        "all or nothing: a profile with an error imports none. Built-in profiles are never replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON file ('-': standard input)")

    def handle(self, *args, file: str, **options):
        try:
            if file == "-":
                records = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as source:
                    records = json.load(source)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        try:
            created, updated = services.load_profiles(records)
        except InvalidInput as exc:
            details = "; ".join(f"{p['loc'][0]}: {p['msg']}" for p in exc.problems)
            raise CommandError(f"{exc.message}: {details}") from None
        self.stdout.write(f"{created} import profile(s) created, {updated} updated")
