"""Finalise a statement run: post its royalty statements to the payee ledger and lock it."""

from django.core.management.base import BaseCommand, CommandError

from project.errors import DomainError
from statements import selectors
from statements.royalties import services


class Command(BaseCommand):
    help = "Post a PROCESSED statement run's royalty statements to the ledger (one transaction) and lock the run."

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int)

    def handle(self, *args, run_id: int, **options):
        try:
            royalty = services.finalize_run(run=selectors.get_run(run_id))
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        kept = royalty.statement_set
        payable = kept.statements.filter(payable__gt=0).count()
        self.stdout.write(
            f"run {run_id} finalised as #{royalty.sequence}: {kept.statements.count()} statements, "
            f"{payable} payable, {kept.suspense.count()} unallocated groups"
        )
