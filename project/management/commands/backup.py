import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from project import backup


class Command(BaseCommand):
    help = (
        "pg_dump (custom format) of the database plus a manifest of the storage objects its rows reference."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, default=Path("backups"), help="Directory (default ./backups)."
        )

    def handle(self, *args, output: Path, **options):
        try:
            dump, manifest = backup.backup(output)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            raise CommandError(f"backup failed: {backup.failure(exc)}") from exc
        self.stdout.write(f"{dump}\n{manifest}")
