from django.core.management.base import BaseCommand

from ingestion.polling import poll_inbound


class Command(BaseCommand):
    help = "Run one tick of the inbound FTP poller now (fetch today's files, send the no-file alert if due)."

    def handle(self, *args, **options):
        self.stdout.write("polling the inbound FTP server…")
        result = poll_inbound()
        self.stdout.write(result.summary())
