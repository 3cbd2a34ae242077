from django.core.management.base import BaseCommand

from ingestion.polling import poll_inbound


class Command(BaseCommand):
    help = "Run one tick of the inbound FTP poller now (fetch today's files, send the no-file alert if due)."

    def handle(self, *args, **options):
        self.stdout.write("polling the inbound FTP server…")
        result = poll_inbound(on_progress=self._progress)
        self.stdout.write(result.summary())

    def _progress(self, name: str, processed: int, total: int) -> None:
        self.stdout.write(f"{name}: {processed}/{total} records processed")
