from django.core.management.base import BaseCommand, CommandError

from ingestion.models import InvoiceFile
from ingestion.services import reprocess_file


class Command(BaseCommand):
    help = "Re-run the known-invoice lookup and the summary email of an imported file (by id or name)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="InvoiceFile id or file name")

    def handle(self, *args, file: str, **options):
        lookup = {"pk": int(file)} if file.isdigit() else {"name": file}
        invoice_file = InvoiceFile.objects.filter(**lookup).first()
        if invoice_file is None:
            raise CommandError(f"no invoice file {file!r}")
        self.stdout.write(f"reprocessing {invoice_file.name} ({invoice_file.imported_count} lines)…")
        try:
            report = reprocess_file(invoice_file=invoice_file)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{invoice_file.name}: {invoice_file.found_count} found, {len(report.not_found)} not found,"
            f" {len(report.past)} past; summary email queued"
        )
