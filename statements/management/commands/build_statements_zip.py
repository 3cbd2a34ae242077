"""Build the zip of a statement run's royalty statements (every payee's PDF and xlsx) in this
process, with progress; what the run page and the API queue for a background task."""

from django.core.management.base import BaseCommand, CommandError

from project.errors import DomainError
from statements import selectors
from statements.royalties import selectors as royalty_selectors
from statements.royalties import services


class Command(BaseCommand):
    help = "Build the zip of a run's royalty statements into the storage, printing the progress."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int)

    def handle(self, *args, run_id: int, **options):
        try:
            run = selectors.get_run(run_id)
            data = royalty_selectors.run_statements(run)
            archive = services.request_archive(run=run, data=data, queue=False)
            archive = services.build_archive(archive_id=archive.pk, on_progress=self._progress)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"run {run_id}: {archive.total} statements in {archive.storage_key}")

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"{done}/{total} statements")
