"""Process sales files again, in this process: upload check, cleaning, import."""

from django.core.management.base import BaseCommand, CommandError

from project.errors import Conflict
from statements import pipeline, services
from statements.models import SalesFile, SalesFileStatus


class Command(BaseCommand):
    help = (
        "Clean and import sales files now (e.g. a FAILED one after fixing the cause); prints progress. "
        "A file whose layout no import profile reads ends in NEEDS_MAPPING, which is not a failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="+", type=int, help="sales file ids")
        parser.add_argument(
            "--force",
            action="store_true",
            help="also take files a task still holds (lease not lapsed) in CLEANING/CLEANED/IMPORTING; "
            "files whose lease lapsed are taken over without it",
        )

    def handle(self, *args, ids: list[int], force: bool, **options):
        failed = 0
        for sales_file_id in ids:
            sales_file = SalesFile.objects.filter(pk=sales_file_id).first()
            if sales_file is None:
                raise CommandError(f"no sales file with id {sales_file_id}")
            try:
                if force and services.is_held(sales_file):
                    sales_file = services.mark_failed(
                        sales_file, reason="interrupted; processed again with --force", source="command"
                    )
                sales_file = pipeline.process_now(sales_file, on_progress=self._progress)
            except Conflict as exc:
                raise CommandError(f"{exc} (use --force if its task died)") from None
            if sales_file.status == SalesFileStatus.PROCESSED:
                self.stdout.write(
                    f"sales file {sales_file.pk}: PROCESSED, {sales_file.lines_valid} lines imported, "
                    f"{sales_file.lines_rejected} rejected"
                )
            elif sales_file.status == SalesFileStatus.NEEDS_MAPPING:
                # Not a failure: the file waits for someone to map its columns.
                self.stdout.write(
                    f"sales file {sales_file.pk}: NEEDS_MAPPING, needs mapping: {sales_file.failure_reason}; "
                    "map its columns on the run page (Map columns) or with "
                    f"PUT /api/files/salesfiles/{sales_file.pk}/mapping/, and it is processed"
                )
            else:
                failed += 1
                self.stderr.write(
                    f"sales file {sales_file.pk}: {sales_file.status}: {sales_file.failure_reason}"
                )
        if failed:
            raise CommandError(f"{failed} file(s) failed")

    def _progress(self, sales_file: SalesFile, done: int, total: int | None) -> None:
        step = "importing" if total is not None else "cleaning"
        self.stdout.write(f"sales file {sales_file.pk}: {step} {done}{f'/{total}' if total else ''} lines")
