import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from project import backup


class Command(BaseCommand):
    help = (
        "Restore a `backup` dump into the configured, empty database, then check that every storage "
        "object its rows reference exists; with --check alone, only the check."
    )

    def add_arguments(self, parser):
        parser.add_argument("dump", nargs="?", type=Path, help="The .dump written by `backup`.")
        parser.add_argument(
            "--check", action="store_true", help="Check the storage objects the rows reference."
        )

    def handle(self, *args, dump: Path | None, check: bool, **options):
        if dump is None and not check:
            raise CommandError("give a dump to restore, or --check")
        if dump is not None:
            if not dump.is_file():
                raise CommandError(f"no dump at {dump}")
            if not backup.database_is_empty():
                raise CommandError("the database is not empty: restore into a fresh database")
            try:
                backup.restore(dump)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                raise CommandError(f"restore failed: {backup.failure(exc)}") from exc
            self.stdout.write(f"restored {dump.name}")
        checked, missing = backup.missing_objects()
        for reference in missing:
            self.stderr.write(f"missing: {reference.key} (referenced by {reference.source})")
        if missing:
            raise CommandError(f"{len(missing)} of {checked} referenced storage objects are missing")
        self.stdout.write(f"{checked} referenced storage objects, all present")
