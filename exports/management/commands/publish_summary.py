from django.core.management.base import BaseCommand, CommandError

from exports import files, services
from project import storage


class Command(BaseCommand):
    help = "Rewrite incoming-summary-list.json in the public storage from the database."

    def handle(self, *args, **options) -> None:
        try:
            count = services.publish_summary()
        except storage.Unavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Published {files.summary_key()} with {count} documents.")
