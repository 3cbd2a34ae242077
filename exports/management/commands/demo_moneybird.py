"""The demo's Moneybird: the fake Moneybird API with demo documents on 127.0.0.1:MONEYBIRD_DEMO_PORT,
used while MONEYBIRD_API_URL is not configured (`make run`)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from exports import webhooks
from exports.fake_moneybird import FakeMoneybird
from exports.moneybird import client_from_settings, demo_mode


class Command(BaseCommand):
    help = "Serve a fake Moneybird with demo documents until interrupted (the demo's Moneybird)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=settings.MONEYBIRD_DEMO_PORT,
            help="port on 127.0.0.1 (default: %(default)s, from MONEYBIRD_DEMO_PORT, where the app looks)",
        )
        parser.add_argument(
            "--webhook-url",
            default=f"http://127.0.0.1:{settings.DEMO_PORT}/api/exports/webhook/",
            help="registered as webhook, so the demo page's changes reach the app as Moneybird's would "
            "(default: %(default)s, from PORT)",
        )

    def handle(self, *args, port: int, webhook_url: str, **options) -> None:
        if not demo_mode():
            self.stdout.write("MONEYBIRD_API_URL is set: no demo Moneybird.")
            return
        # This process registers the webhook through the client, which must reach this server.
        settings.MONEYBIRD_DEMO_PORT = port
        fake = FakeMoneybird(port=port)
        fake.add_demo_documents()
        webhooks.register_webhook(client=client_from_settings(), url=webhook_url)
        self.stdout.write(
            f"demo Moneybird on {fake.base_url} with {sum(map(len, fake.documents.values()))} documents"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            fake.close()
