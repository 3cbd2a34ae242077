from django.core.management.base import BaseCommand, CommandError

from exports import webhooks
from exports.moneybird import client_from_settings
from project.errors import DomainError


class Command(BaseCommand):
    help = (
        "Register URL (this site's /api/exports/webhook/) as a Moneybird webhook for document events "
        "and keep the token its calls carry."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--register", metavar="URL", required=True)
        parser.add_argument(
            "--event", action="append", dest="events", help=f"event to subscribe (default: {webhooks.EVENTS})"
        )

    def handle(self, *args, register: str, events: list[str] | None, **options) -> None:
        try:
            webhook = webhooks.register_webhook(client=client_from_settings(), url=register, events=events)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Registered Moneybird webhook {webhook.moneybird_id} for {webhook.url} ({', '.join(webhook.events)})."
        )
