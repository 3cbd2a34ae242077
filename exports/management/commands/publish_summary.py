from django.core.management.base import BaseCommand

from exports import services
from exports.files import summary_key


class Command(BaseCommand):
    help = "Rewrite incoming-summary-list.json in the public storage from the database."

    def handle(self, *args, **options) -> None:
        count = services.publish_summary()
        self.stdout.write(f"Published {summary_key()} with {count} documents.")
