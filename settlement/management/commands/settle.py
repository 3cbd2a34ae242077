import json

from django.core.management.base import BaseCommand, CommandError

from settlement.errors import SettleError
from settlement.services import settle_structure


class Command(BaseCommand):
    help = "Settle a settlement structure (as POST /settlement/<settleId>/settle) and print the result."

    def add_arguments(self, parser):
        parser.add_argument("settle_id", metavar="settleId")
        parser.add_argument("--user", default="manage.py", help="Name recorded as lastUpdate.user.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the settled aggregates."
        )

    def handle(self, *args, settle_id: str, user: str, as_json: bool, **options):
        try:
            settlement, head = settle_structure(settleid=settle_id, user=user)
        except SettleError as exc:
            raise CommandError(exc.message) from exc
        if as_json:
            self.stdout.write(json.dumps({"output": settlement.aggregates}, sort_keys=True))
        else:
            self.stdout.write(
                f"{settle_id}: settled {settlement.keys} keys at {settlement.settled_at.isoformat()}"
                f" (settlement #{settlement.pk}); chain head {head}"
            )
