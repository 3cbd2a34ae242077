from django.core.management.base import BaseCommand

from project.mail import deliver_outbox


class Command(BaseCommand):
    help = "Send every pending email in the outbox now."

    def handle(self, *args, **options):
        self.stdout.write(f"{deliver_outbox()} email(s) sent")
