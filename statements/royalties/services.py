"""Writes of royalty accounting: splits, advances and other manual ledger entries, finalisation."""

from collections.abc import Sequence
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from project.audit import record_action
from project.errors import Conflict, InvalidInput
from project.mail import queue_email
from statements import services as statement_services
from statements.models import StatementRun
from statements.models_royalties import Contract, ContractSplit, Payee, RoyaltyLedgerEntry, RoyaltyRun
from statements.royalties.calculation import RunStatements, allocate, compute
from statements.royalties.presentation import run_statements_data

K = RoyaltyLedgerEntry.Kind
MANUAL_KINDS = {K.ADVANCE, K.COST, K.ADJUSTMENT}
HUNDRED = Decimal(100)


def set_splits(*, contract: Contract, shares: Sequence[tuple[Payee, Decimal]]) -> None:
    """Replace the contract's splits; the shares must add up to exactly 100 %."""
    total = sum((share for _, share in shares), Decimal(0))
    if total != HUNDRED:
        raise InvalidInput(f"Splits of contract {contract.name!r} add up to {total} %, not 100 %.")
    with transaction.atomic():
        contract.splits.all().delete()
        ContractSplit.objects.bulk_create(
            ContractSplit(contract=contract, payee=payee, share=share) for payee, share in shares
        )


def post_entry(
    *, payee: Payee, contract: Contract, kind: str, amount: Decimal, currency: str, date=None, memo: str = ""
) -> RoyaltyLedgerEntry:
    """An advance or recoupable cost (a positive amount, debited) or an adjustment (signed)."""
    if kind not in MANUAL_KINDS:
        raise InvalidInput(
            f"Only {', '.join(sorted(MANUAL_KINDS))} entries are posted by hand; {kind!r} is not."
        )
    if kind != K.ADJUSTMENT:
        if amount <= 0:
            raise InvalidInput(f"An {kind} is a positive amount; got {amount}.")
        amount = -amount
    return RoyaltyLedgerEntry.objects.create(
        payee=payee,
        contract=contract,
        kind=kind,
        amount=amount,
        currency=currency,
        date=date or timezone.localdate(),
        memo=memo,
    )


def finalize_run(*, run: StatementRun, user: AbstractBaseUser | None = None) -> RoyaltyRun:
    """Post the run's statements to the ledger in one transaction and lock the run."""
    with transaction.atomic():
        run = StatementRun.objects.select_for_update().get(pk=run.pk)
        if RoyaltyRun.objects.filter(run=run).exists():
            raise Conflict(f"Statement run #{run.pk} is already finalised.", code="run_finalized")
        # One finalisation at a time: each reads the balances the previous one posted.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE statements_royaltyrun IN EXCLUSIVE MODE")
        result = compute(run)
        if result.problems:
            raise Conflict(
                f"Statement run #{run.pk} cannot be finalised: " + " ".join(result.problems),
                code="splits_invalid",
                problems=result.problems,
            )
        royalty = RoyaltyRun.objects.create(run=run, sequence=result.sequence, finalized_by=_user(user))
        try:
            with transaction.atomic():
                allocate(royalty.pk)
        except IntegrityError:
            raise Conflict(
                "Another run finalised at the same time paid some of these lines; compute again.",
                code="lines_allocated",
            ) from None
        RoyaltyLedgerEntry.objects.bulk_create(_entries(result, royalty))
        royalty.document = run_statements_data(result, finalized=True)
        royalty.save(update_fields=["document"])
        # The report's rate sets freeze with it, so the converted revenue stays what was paid.
        statement_services.record_report_generated(run=run)
        _email_statements(royalty)
        record_action(
            "statements.run_finalised", target=run, changes={"royalty_run": royalty.pk}, user=_user(user)
        )
    return royalty


def _entries(result: RunStatements, royalty: RoyaltyRun) -> list[RoyaltyLedgerEntry]:
    currency = result.run.currency
    day = timezone.localdate()
    entries = []

    def entry(statement, contract_id: int, kind: str, amount: Decimal, **extra) -> None:
        if amount:
            entries.append(
                RoyaltyLedgerEntry(
                    payee=statement.payee,
                    contract_id=contract_id,
                    kind=kind,
                    amount=amount,
                    currency=currency,
                    date=day,
                    royalty_run=royalty,
                    memo=f"{result.run.name} (run #{result.run.pk})",
                    **extra,
                )
            )

    for statement in result.statements:
        for contract_id, amount in statement.earnings_by_contract.items():
            entry(statement, contract_id, K.EARNINGS, amount)
        for contract_id, amount in statement.held_by_contract.items():
            entry(statement, contract_id, K.RESERVE_HELD, -amount)
        for held_id, contract_id, amount in statement.releases:
            entry(statement, contract_id, K.RESERVE_RELEASED, amount, releases_id=held_id)
        for pool in statement.pools.values():
            entry(statement, pool.lead_contract_id, K.RECOUPMENT, pool.recouped)
            entry(statement, pool.lead_contract_id, K.PAYMENT, -pool.payable)
    return entries


def _email_statements(royalty: RoyaltyRun) -> None:
    """Statements go by email, through the outbox, to the payees who asked for it."""
    wanted = set(Payee.objects.filter(email_statements=True).exclude(email="").values_list("pk", flat=True))
    for statement in royalty.document["statements"]:
        if statement["payee"]["id"] in wanted:
            queue_email(
                template="statements/royalty_statement",
                context={"run": royalty.document["run"], "statement": statement},
                to=[statement["payee"]["email"]],
            )


def _user(user: AbstractBaseUser | None):
    return user if user is not None and user.is_authenticated else None
