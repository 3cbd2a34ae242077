"""A run's statements kept as rows (`RoyaltyStatementSet` and its payees, contracts' breakdowns,
shares, unmatched groups and groups of lines): a draft's cached by the digest of its inputs, so that
the next view of the same inputs reads them instead of computing (seconds to a minute for millions
of lines), and a finalised run's as posted. A draft's groups of lines (the line detail) are
written when a payee's detail is first read, for that payee's contracts, and all of them when the
run is finalised. What a view of the run's statements shows of those rows is kept with them as
well, once presented (`presented_figures`)."""

import gc
import json
import zlib

from django.db import IntegrityError, connection, transaction

from statements.models import ExchangeRate, RateException, SalesFile, StatementRun
from statements.royalties.calculation import BREAKDOWN_ROWS, RunStatements, compute, stage_groups
from statements.royalties.models import (
    Contract,
    ContractRate,
    ContractSplit,
    LabelIncome,
    Payee,
    PayeeRate,
    RoyaltyAllocation,
    RoyaltyLedgerEntry,
    RoyaltyPresentedStatements,
    RoyaltyRun,
    RoyaltyStatement,
    RoyaltyStatementSet,
    RoyaltyStatementShare,
    RoyaltySuspenseGroup,
)
from statements.royalties.presentation import SUMMARY, statements_figures

# Changed whenever the calculation gives other statements for the same inputs: older drafts are
# then computed again.
CALCULATION_VERSION = "3"
# Tables read whole: their rows' text is hashed (a few thousand rows: milliseconds).
WHOLE_TABLES = (Payee, Contract, ContractRate, ContractSplit, RoyaltyRun, LabelIncome)
# Append-only tables: their row count and highest id say whether they changed.
APPEND_ONLY_TABLES = (RoyaltyLedgerEntry,)
# Allocations are only ever inserted, by a finalisation that also adds a RoyaltyRun row (hashed
# above): their highest id (read from the index) suffices, where counting them would read
# millions of rows on every view.


# Table names from the models, conditions from this module: no user input in these queries.
def _rows_md5(table: str, where: str = "") -> str:
    return f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t {where})"  # noqa: S608


def _count_max(table: str) -> str:
    return f"(SELECT concat(count(*), ':', max(id)) FROM {table})"  # noqa: S608


def inputs_digest(run: StatementRun) -> str:
    """SHA-256 of everything the statements of `run` are computed from: the run, its files, rates,
    rate exceptions and payee currency rates, payees, contracts with their rates and splits, finalised runs, the ledger
    and the allocations. Equal digests give equal statements."""
    files = StatementRun.sales_files.through._meta.db_table
    in_run = f"WHERE t.id IN (SELECT salesfile_id FROM {files} WHERE statementrun_id = %(run)s)"  # noqa: S608
    parts = [_rows_md5(model._meta.db_table) for model in WHOLE_TABLES]
    parts += [_count_max(model._meta.db_table) for model in APPEND_ONLY_TABLES]
    parts.append(f"(SELECT max(id) FROM {RoyaltyAllocation._meta.db_table})")  # noqa: S608
    parts += [
        _rows_md5(StatementRun._meta.db_table, "WHERE t.id = %(run)s"),
        _rows_md5(ExchangeRate._meta.db_table, "WHERE t.run_id = %(run)s"),
        _rows_md5(RateException._meta.db_table, "WHERE t.run_id = %(run)s"),
        _rows_md5(PayeeRate._meta.db_table, "WHERE t.run_id = %(run)s"),
        _rows_md5(SalesFile._meta.db_table, in_run),
    ]
    sql = f"SELECT encode(sha256(convert_to(concat_ws(',', %(version)s, {', '.join(parts)}), 'UTF8')), 'hex')"
    with connection.cursor() as cursor:
        cursor.execute(sql, {"run": run.pk, "version": CALCULATION_VERSION})
        return cursor.fetchone()[0]


def finalised_set(run: StatementRun) -> RoyaltyStatementSet | None:
    return RoyaltyStatementSet.objects.filter(run=run, royalty_run__isnull=False).first()


def statement_set(run: StatementRun) -> RoyaltyStatementSet:
    """The statements of `run`: as finalised, else the draft kept for today's inputs, else computed
    now and kept (replacing the run's older drafts). ReportNotReady when the run is not PROCESSED."""
    found = finalised_set(run)
    if found is not None:
        return found
    digest = inputs_digest(run)
    found = RoyaltyStatementSet.objects.filter(run=run, digest=digest).first()
    if found is not None:
        return found
    with transaction.atomic():
        # One computation per run at a time: a second view waits and reads what the first kept.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, run.pk])
        digest = inputs_digest(run)
        found = RoyaltyStatementSet.objects.filter(run=run, digest=digest).first()
        if found is None:
            found = store(compute(run), digest)
    return found


LOCK_NAMESPACE = 23  # pg_advisory_xact_lock(namespace, run id): computing a run's draft

# Changed whenever `statements_figures` gives something else for the same rows: what was kept
# before is then built again on its next view.
PRESENTED_VERSION = 1


def presented_figures(kept: RoyaltyStatementSet) -> dict:
    """`statements_figures(kept)` as kept with `kept` (`RoyaltyPresentedStatements`): decoded
    instead of built again."""
    found = (
        RoyaltyPresentedStatements.objects.filter(statement_set=kept, version=PRESENTED_VERSION)
        .values_list("figures", flat=True)
        .first()
    )
    return _decoded(found) if found is not None else keep_figures(kept)


def keep_figures(kept: RoyaltyStatementSet) -> dict:
    """Build `statements_figures(kept)` and keep them with `kept` (a draft's when it is computed; a
    set kept before them, or by an older presentation, on its next view)."""
    figures = statements_figures(kept)
    try:
        with transaction.atomic():
            RoyaltyPresentedStatements.objects.update_or_create(
                statement_set=kept,
                defaults={
                    "version": PRESENTED_VERSION,
                    "figures": zlib.compress(json.dumps(figures, separators=(",", ":")).encode(), 1),
                },
            )
    except IntegrityError:
        pass  # a concurrent view kept them, or `kept` was replaced meanwhile: nothing to keep
    return figures


def _decoded(kept_figures: bytes) -> dict:
    # Some 10^5 small dicts and strings and no reference cycles: the cyclic garbage collector would
    # walk the growing heap again and again while json makes them, about doubling the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(zlib.decompress(kept_figures))
    finally:
        if enabled:
            gc.enable()


# Constants of the calculation: no user input in this query.
BREAKDOWNS_INSERT_SQL = f"""
INSERT INTO statements_royaltystatementbreakdown (statement_set_id, contract_id, dimension, name, title, earnings)
SELECT %s, r.* FROM ({BREAKDOWN_ROWS}) r
"""  # noqa: S608
GROUPS_INSERT_SQL = """
INSERT INTO statements_royaltystatementgroup
  (statement_set_id, contract_id, sale_type, dsp, territory, period, isrc, title, lines, units, base, rate)
SELECT %s, contract_id, sale_type, dsp, territory, period, isrc, title, lines, units, base, rate
FROM royalty_groups
"""


@transaction.atomic
def store(result: RunStatements, digest: str) -> RoyaltyStatementSet:
    """Keep `result` (computed in this transaction: its breakdowns are still staged) as the run's
    draft for `digest`; the run's other drafts are deleted."""
    run = result.run
    RoyaltyStatementSet.objects.filter(run=run, royalty_run__isnull=True).delete()
    kept = RoyaltyStatementSet.objects.create(
        run=run,
        digest=digest,
        sequence=result.sequence,
        problems=result.problems,
        revenue=result.revenue,
        already_allocated=result.already_allocated,
        period_first=result.period_first,
        period_last=result.period_last,
        duplicates=[{**d, "revenue": str(d["revenue"])} for d in result.duplicates],
    )
    with connection.cursor() as cursor:
        cursor.execute(BREAKDOWNS_INSERT_SQL, [kept.pk])
    RoyaltyStatement.objects.bulk_create(
        (_statement_row(kept, position, statement) for position, statement in enumerate(result.statements)),
        batch_size=1000,
    )
    RoyaltyStatementShare.objects.bulk_create(
        (
            RoyaltyStatementShare(
                statement_set=kept, contract_id=split.contract_id, payee_id=split.payee_id, share=split.share
            )
            for split in ContractSplit.objects.filter(
                contract_id__in={c for s in result.statements for c in s.earnings_by_contract}
            )
        ),
        batch_size=5000,
    )
    RoyaltySuspenseGroup.objects.bulk_create(
        (
            RoyaltySuspenseGroup(statement_set=kept, label_income=label, **group)
            for label, groups in ((False, result.suspense), (True, result.label_income))
            for group in groups
        ),
        batch_size=5000,
    )
    keep_figures(kept)  # what every view shows: built once, with the rows
    return kept


def _statement_row(kept: RoyaltyStatementSet, position: int, statement) -> RoyaltyStatement:
    payee = statement.payee
    return RoyaltyStatement(
        statement_set=kept,
        payee=payee,
        position=position,
        payee_details=payee_details(payee),
        **{name: statement.total(name) for name in SUMMARY},
        carried_forward=statement.carried_forward,
        currency=payee.currency,
        fx_rate=statement.fx_rate,
        run_earnings=statement.run_earnings,
        outstanding=statement.total("outstanding"),
        balances=[
            {
                "pool": pool.key,
                "lead_contract_id": pool.lead_contract_id,
                "outstanding": str(pool.outstanding),
                **{name: str(getattr(pool, name)) for name in SUMMARY},
            }
            for pool in statement.pools.values()
        ],
        postings={
            "earnings": {str(c): str(a) for c, a in statement.earnings_by_contract.items()},
            "reserve_held": {str(c): str(a) for c, a in statement.held_by_contract.items()},
            "reserve_released": [
                [entry, contract, str(amount)] for entry, contract, amount in statement.releases
            ],
        },
    )


# The payee fields a statement shows, as they were when it was computed (address fields when the
# Payee model has them).
PAYEE_FIELDS = ("name", "email", "minimum_payout", "address", "country")


def payee_details(payee: Payee) -> dict:
    details = {"id": payee.pk}
    for name in PAYEE_FIELDS:
        value = getattr(payee, name, None)
        if value not in (None, ""):
            details[name] = str(value)
    return details


def write_line_detail(kept: RoyaltyStatementSet, payee_id: int | None = None) -> None:
    """Write the groups of lines of the contracts `kept` pays (of `payee_id`'s only, when given)
    that are not written yet: computed from the run's lines, restricted to those contracts. `kept`
    is the run's set for today's inputs (`statement_set`) or finalised (all written)."""
    shares = kept.shares.all() if payee_id is None else kept.shares.filter(payee_id=payee_id)
    wanted = set(shares.values_list("contract_id", flat=True))
    if kept.royalty_run_id is not None or not wanted:
        return
    with transaction.atomic():
        # One writer per run: a second reader waits and finds the groups written.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, kept.run_id])
        written = set(
            kept.groups.filter(contract_id__in=wanted).values_list("contract_id", flat=True).distinct()
        )
        missing = sorted(wanted - written)
        if not missing:
            return
        stage_groups(kept.run, None if payee_id is None and not written else missing)
        with connection.cursor() as cursor:
            cursor.execute(GROUPS_INSERT_SQL, [kept.pk])


def finalise(kept: RoyaltyStatementSet, royalty: RoyaltyRun) -> None:
    """`kept` becomes the statements of the finalised `royalty`."""
    kept.royalty_run = royalty
    kept.save(update_fields=["royalty_run"])
