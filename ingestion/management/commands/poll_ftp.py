import time

from django.conf import settings
from django.core.management.base import BaseCommand

from ingestion.polling import poll_inbound
from project.integrations import ftp


class Command(BaseCommand):
    help = "Run one tick of the inbound FTP poller now (fetch due files, send the no-file alert if due)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Retry for up to SECONDS while the server cannot be reached (`make run` starts it alongside).",
        )

    def handle(self, *args, wait: float, **options):
        deadline = time.monotonic() + wait
        if wait:
            # A server still starting is not an outage: wait for it before the tick that would
            # record a failed poll (and, late in the day, send the no-file alert).
            ftp.wait_until_reachable(settings.INGESTION_FTP_URL, seconds=wait)
        self.stdout.write("polling the inbound FTP server…")
        result = poll_inbound(on_progress=self._progress)
        while result.error and time.monotonic() < deadline:
            time.sleep(0.5)
            result = poll_inbound(on_progress=self._progress)
        self.stdout.write(result.summary())

    def _progress(self, name: str, processed: int, total: int) -> None:
        self.stdout.write(f"{name}: {processed}/{total} records processed")
