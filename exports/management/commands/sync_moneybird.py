from django.core.management.base import BaseCommand, CommandError

from exports import sync
from exports.moneybird import client_from_settings
from project.errors import DomainError


class Command(BaseCommand):
    help = "Sync purchase invoices and receipts with Moneybird (MONEYBIRD_TOKEN) and republish the summary."

    def progress(self, processed: int, total: int) -> None:
        self.stdout.write(f"fetched {processed}/{total} documents")

    def handle(self, *args, **options) -> None:
        try:
            result = sync.sync_documents(client=client_from_settings(), progress=self.progress)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        if not result.changed:
            self.stdout.write("No changes in Moneybird; nothing written.")
            return
        self.stdout.write(
            f"Synced: {result.created} new, {result.updated} updated, {result.removed} deleted, "
            f"{result.mutations} mutations; summary published."
        )
