import json

from django.core.management.base import BaseCommand, CommandError

from settlement.errors import SettleError
from settlement.models import Structure
from settlement.selectors import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute the hash chain of a settlement structure's history and settlements (or of all of"
        " them) and print one JSON report per structure; fails when a chain does not verify."
    )

    def add_arguments(self, parser):
        parser.add_argument("settle_id", metavar="settleId", nargs="?")
        parser.add_argument("--all", action="store_true", dest="every", help="Verify every structure.")

    def handle(self, *args, settle_id: str | None, every: bool, **options):
        if bool(settle_id) == every:
            raise CommandError("Name one settleId or pass --all")
        settle_ids = Structure.objects.values_list("settleid", flat=True) if every else [settle_id]
        broken = []
        for name in settle_ids:
            try:
                report = verify_chain(settleid=name)
            except SettleError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(json.dumps({"settleid": name, **report}, sort_keys=True))
            if not report["valid"]:
                broken.append(name)
        if broken:
            raise CommandError(f"hash chain broken: {', '.join(broken)}")
