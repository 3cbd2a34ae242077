"""A run's royalty statements, computed from its sales lines, the contracts and the ledger.

The heavy part is set-based SQL: the run's lines (filtered as the report filters them) are
converted at the rate the report would use, matched to contracts (ISRC over UPC over artist, in the
contract's validity), stripped of lines a finalised run already paid under that contract, and summed
per contract x sale type x DSP x territory x month x track. PostgreSQL NUMERIC keeps the sums exact.
Python then applies rates and splits to those groups (exact, `project.money.EXACT`), and the
ledger's balances give recoupment, reserves and what is payable.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Max, Q, Sum

from project.errors import InvalidInput
from project.money import EXACT
from statements.models import SalesFileStatus, StatementRun
from statements.report import _lines, _not_ready, _rate_resolver
from statements.royalties.models import (
    MEMO_KINDS,
    Contract,
    ContractRate,
    LabelIncome,
    Payee,
    RoyaltyLedgerEntry,
    RoyaltyRun,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)
RESERVED_SALE_TYPES = ("download", "physical")
K = RoyaltyLedgerEntry.Kind
DEBITS = (K.ADVANCE, K.COST)


class EarningRow(NamedTuple):  # a tuple: built 100,000s of times per run
    """A payee's earnings from one group of lines: base (converted revenue) x rate x share."""

    contract_id: int
    sale_type: str
    dsp: str
    territory: str
    period: str
    isrc: str
    title: str
    lines: int
    units: int
    base: Decimal
    rate: Decimal
    share: Decimal  # percent
    exact: Decimal


@dataclass
class Pool:
    """One balance of a payee: a contract, or the contracts of a cross-collateralisation group."""

    key: str
    lead_contract_id: int  # pool-level entries (recoupment, payment) are posted on it
    opening: Decimal = ZERO
    outstanding: Decimal = ZERO  # advances and costs not yet recouped, before this run
    earnings: Decimal = ZERO
    reserve_held: Decimal = ZERO
    reserve_released: Decimal = ZERO
    recouped: Decimal = ZERO
    payable: Decimal = ZERO

    @property
    def closing(self) -> Decimal:
        net = EXACT.subtract(EXACT.add(self.earnings, self.reserve_released), self.reserve_held)
        return EXACT.add(self.opening, net)


@dataclass
class PayeeStatement:
    payee: Payee
    rows: list[EarningRow] = field(default_factory=list)
    pools: dict[str, Pool] = field(default_factory=dict)
    earnings_by_contract: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    held_by_contract: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    releases: list[tuple[int, int, Decimal]] = field(default_factory=list)  # (entry, contract, amount)

    def total(self, name: str) -> Decimal:
        amount = ZERO
        for pool in self.pools.values():
            amount = EXACT.add(amount, getattr(pool, name))
        return amount

    @property
    def carried_forward(self) -> Decimal:
        return EXACT.subtract(self.total("closing"), self.total("payable"))


@dataclass
class RunStatements:
    run: StatementRun
    sequence: int
    statements: list[PayeeStatement]
    suspense: list[dict]  # unmatched lines grouped, with their converted revenue
    already_allocated: int  # lines a finalised run already paid under every contract they match
    problems: list[str]  # what stops finalisation (splits not adding to 100 %, a contract without splits)
    revenue: Decimal = ZERO  # the converted revenue of every line of the run, matched or not
    label_income: list[dict] = field(default_factory=list)  # unmatched groups the label keeps (LabelIncome)
    # Lines left out because their content was paid from (or is in) an earlier file: one dict per
    # (file, earlier file) with the lines and their converted revenue.
    duplicates: list[dict] = field(default_factory=list)


@transaction.atomic  # the staged tables live until the outermost transaction commits
def compute(run: StatementRun) -> RunStatements:
    """Statements of `run` as they would be posted now; ReportNotReady when the run is not PROCESSED.
    PostgreSQL only (JSON arrays unfolded in SQL, temporary tables)."""
    files = list(run.sales_files.order_by("pk"))
    file_ids = [f.pk for f in files]
    fx = _conversion_rates(run, files)
    groups, suspense, already, revenue, duplicates = _matched_groups(run, file_ids, fx)
    suspense, label_income = split_label_income(suspense)
    contracts = {
        c.pk: c
        for c in Contract.objects.filter(pk__in={g[0] for g in groups}).prefetch_related(
            "rate_overrides", "splits__payee"
        )
    }
    problems = _split_problems(contracts.values())
    sequence = _sequence(run)
    splits = {pk: list(contract.splits.all()) for pk, contract in contracts.items()}
    overrides = {pk: list(contract.rate_overrides.all()) for pk, contract in contracts.items()}
    for split in {split.payee_id: split for found in splits.values() for split in found}.values():
        _check_currency(split.payee, run)
    rates: dict[tuple, Decimal] = {}
    by_payee: dict[int, PayeeStatement] = {}
    for contract_id, sale_type, dsp, territory, period, isrc, title, lines, units, base in groups:
        contract = contracts[contract_id]
        key = (contract_id, sale_type, dsp, territory)
        rate = rates.get(key)
        if rate is None:
            rate = rates[key] = contract_rate(
                contract, overrides[contract_id], sale_type=sale_type, dsp=dsp, territory=territory
            )
        royalty = EXACT.multiply(base, rate)
        reserved = sale_type in RESERVED_SALE_TYPES and contract.reserve_rate
        for split in splits[contract_id]:
            exact = EXACT.divide(EXACT.multiply(royalty, split.share), HUNDRED)
            statement = by_payee.get(split.payee_id)
            if statement is None:
                statement = by_payee[split.payee_id] = PayeeStatement(split.payee)
            statement.rows.append(
                EarningRow(
                    contract_id,
                    sale_type,
                    dsp,
                    territory,
                    period,
                    isrc,
                    title,
                    lines,
                    units,
                    base,
                    rate,
                    split.share,
                    exact,
                )
            )
            earned = statement.earnings_by_contract
            earned[contract_id] = EXACT.add(earned[contract_id], exact)
            if reserved:
                held = statement.held_by_contract
                held[contract_id] = EXACT.add(held[contract_id], EXACT.multiply(exact, contract.reserve_rate))
    _apply_ledger(run, by_payee, sequence)
    statements = sorted(by_payee.values(), key=lambda s: (s.payee.name, s.payee.pk))
    return RunStatements(
        run, sequence, statements, suspense, already, problems, revenue, label_income, duplicates
    )


def split_label_income(suspense: list[dict]) -> tuple[list[dict], list[dict]]:
    """Unmatched groups as (still in suspense, kept by the label): a group is the label's when its
    ISRC, UPC or artist is marked as label income."""
    marked: dict[str, set[str]] = defaultdict(set)
    for scope, value in LabelIncome.objects.values_list("scope", "value"):
        marked[scope].add(value)
    if not marked:
        return suspense, []
    kept, label = [], []
    for group in suspense:
        is_label = (
            group["isrc"] in marked["isrc"]
            or group["upc"] in marked["upc"]
            or group["artist"] in marked["artist"]
        )
        (label if is_label else kept).append(group)
    return kept, label


def contract_rate(
    contract: Contract, overrides: list[ContractRate], *, sale_type: str, dsp: str, territory: str
) -> Decimal:
    """The contract's rate for a line: the most specific of its `overrides` (DSP and territory, DSP,
    territory; one naming the sale type before one for every sale type), else the sale type's rate."""
    best = None
    for override in overrides:
        if (
            (override.dsp and override.dsp.lower() != dsp.lower())
            or (override.territory and override.territory != territory)
            or (override.sale_type and override.sale_type != sale_type)
        ):
            continue
        rank = (bool(override.dsp), bool(override.territory), bool(override.sale_type))
        if best is None or rank > best[0]:
            best = (rank, override.rate)
    if best is not None:
        return best[1]
    return getattr(contract, f"rate_{sale_type}", contract.rate_other)


def _sequence(run: StatementRun) -> int:
    return (RoyaltyRun.objects.aggregate(last=Max("sequence"))["last"] or 0) + 1


def _check_currency(payee: Payee, run: StatementRun) -> None:
    # A balance in one currency cannot absorb earnings in another without a conversion nobody agreed.
    if payee.currency != run.currency:
        raise InvalidInput(
            f"Payee {payee.name!r} is paid in {payee.currency} but run #{run.pk} is in {run.currency}: "
            "compute their statements with a run in their currency."
        )


def _conversion_rates(run: StatementRun, files) -> list[tuple]:
    """(file, DSP, period, currency, rate) for every group of the run's lines, resolved exactly as
    the report resolves them; ReportNotReady when a file is not PROCESSED or a rate is missing."""
    if not files:
        raise _not_ready([], set())
    pending = [f for f in files if f.status != SalesFileStatus.PROCESSED]
    resolve = _rate_resolver(run)
    keys = _lines(run, [f.pk for f in files]).values("sales_file_id", "dsp", "period", "currency").distinct()
    rates, missing = [], set()
    for key in keys.order_by():
        rate = resolve(key)
        if rate is None:
            missing.add((key["currency"], key["period"]))
        else:
            rates.append((key["sales_file_id"], key["dsp"], key["period"], key["currency"], rate))
    if pending or missing:
        raise _not_ready(pending, missing)
    return rates


# Staged in temporary tables (dropped at commit) rather than CTEs: analysed, they give the planner
# true row counts, so the scope joins are hash joins (a CTE estimated at one row turned them into
# nested loops: minutes for 100,000 lines). `royalty_lines` is the report's filtered queryset,
# converted; `royalty_paid` is each line's contracts at its most specific scope, less what a
# finalised run already paid.
STAGE_SQL = (
    "DROP TABLE IF EXISTS royalty_fx, royalty_lines, royalty_duplicates, royalty_scope, royalty_candidates,"
    " royalty_paid",
    "CREATE TEMP TABLE royalty_fx (sales_file_id bigint, dsp text, period text, currency text, rate numeric)"
    " ON COMMIT DROP",
)
# A line's content, whatever file it came in: the same report uploaded again under another name, or
# re-exported with other line endings or in another order, has lines of the same content. Names are
# compared trimmed and case-folded, the amount by value (1.50 = 1.5); the title is left out (DSPs
# re-export it with other spellings) as ISRC, UPC and artist identify the recording. Identical lines
# within one file are all paid: the rule is across files.
CONTENT_SQL = (
    "md5(concat_ws(chr(31), lower(btrim(l.dsp)), l.period, upper(l.isrc), l.upc, lower(btrim(l.artist)),"
    " upper(l.territory), l.units, trim_scale(l.revenue), upper(l.currency), l.sale_type,"
    " lower(btrim(l.use_type)), lower(btrim(l.commercial_model))))::uuid"
)
LINES_SQL = """
CREATE TEMP TABLE royalty_lines ON COMMIT DROP AS
SELECT l.*, l.revenue * fx.rate AS converted, {content} AS content
FROM ({lines}) l JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency)
"""
# Lines whose content belongs to another file: the earliest file that paid it in a finalised run,
# else the earliest file of this run holding it. They are left out of everything (paid, suspense,
# revenue) and reported with that earlier file.
DUPLICATES_SQL = """
CREATE TEMP TABLE royalty_duplicates ON COMMIT DROP AS
WITH in_run AS (
  SELECT content, min(sales_file_id) AS first_file FROM royalty_lines GROUP BY content
), paid AS (
  SELECT content, min(sales_file_id) AS first_file FROM statements_royaltyallocation
  WHERE content IN (SELECT content FROM royalty_lines) GROUP BY content
)
SELECT l.sales_file_id, l.line_number, l.converted, coalesce(p.first_file, r.first_file) AS earlier_file_id
FROM royalty_lines l JOIN in_run r USING (content) LEFT JOIN paid p USING (content)
WHERE coalesce(p.first_file, r.first_file) <> l.sales_file_id
"""
DUPLICATES_SUMMARY_SQL = """
SELECT sales_file_id, earlier_file_id, count(*), coalesce(sum(converted), 0)
FROM royalty_duplicates GROUP BY 1, 2 ORDER BY 1, 2
"""
DROP_DUPLICATES_SQL = """
DELETE FROM royalty_lines l USING royalty_duplicates d
WHERE l.sales_file_id = d.sales_file_id AND l.line_number = d.line_number
"""
SCOPE_SQL = """
CREATE TEMP TABLE royalty_scope ON COMMIT DROP AS
SELECT c.id AS contract_id, s.level, s.value, c.valid_from, c.valid_to
FROM statements_contract c
CROSS JOIN LATERAL (
  SELECT 1, v FROM jsonb_array_elements_text(c.isrcs) v
  UNION ALL SELECT 2, v FROM jsonb_array_elements_text(c.upcs) v
  UNION ALL SELECT 3, v FROM jsonb_array_elements_text(c.artists) v
) s (level, value)
"""
CANDIDATES_SQL = """
CREATE TEMP TABLE royalty_candidates ON COMMIT DROP AS
SELECT l.sales_file_id, l.line_number, s.contract_id, s.level
FROM royalty_lines l JOIN royalty_scope s ON s.level = 1 AND s.value = l.isrc
WHERE (s.valid_from = '' OR l.period >= s.valid_from) AND (s.valid_to = '' OR l.period <= s.valid_to)
UNION ALL
SELECT l.sales_file_id, l.line_number, s.contract_id, s.level
FROM royalty_lines l JOIN royalty_scope s ON s.level = 2 AND s.value = l.upc
WHERE (s.valid_from = '' OR l.period >= s.valid_from) AND (s.valid_to = '' OR l.period <= s.valid_to)
UNION ALL
SELECT l.sales_file_id, l.line_number, s.contract_id, s.level
FROM royalty_lines l JOIN royalty_scope s ON s.level = 3 AND s.value = l.artist
WHERE (s.valid_from = '' OR l.period >= s.valid_from) AND (s.valid_to = '' OR l.period <= s.valid_to)
"""
PAID_SQL = """
CREATE TEMP TABLE royalty_paid ON COMMIT DROP AS
SELECT r.sales_file_id, r.line_number, r.contract_id FROM (
  SELECT c.*, min(level) OVER (PARTITION BY sales_file_id, line_number) AS best FROM royalty_candidates c
) r
WHERE r.level = r.best AND NOT EXISTS (
  SELECT 1 FROM statements_royaltyallocation a
  WHERE a.contract_id = r.contract_id AND a.sales_file_id = r.sales_file_id AND a.line_number = r.line_number
)
"""
GROUPS_SQL = """
SELECT p.contract_id, l.sale_type, l.dsp, l.territory, l.period, l.isrc, max(l.title),
       count(*), sum(l.units)::bigint, sum(l.converted)
FROM royalty_paid p JOIN royalty_lines l USING (sales_file_id, line_number)
GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
"""
SUSPENSE_SQL = """
SELECT l.artist, l.isrc, l.upc, max(l.title), l.dsp, l.period, count(*), sum(l.units)::bigint, sum(l.converted)
FROM royalty_lines l
WHERE NOT EXISTS (
  SELECT 1 FROM royalty_candidates c WHERE c.sales_file_id = l.sales_file_id AND c.line_number = l.line_number
)
GROUP BY 1, 2, 3, 5, 6 ORDER BY 1, 2, 3, 5, 6
"""
ALREADY_SQL = """
SELECT count(*) FROM (SELECT DISTINCT sales_file_id, line_number FROM royalty_candidates) c
WHERE NOT EXISTS (
  SELECT 1 FROM royalty_paid p WHERE p.sales_file_id = c.sales_file_id AND p.line_number = c.line_number
)
"""
ALLOCATE_SQL = """
INSERT INTO statements_royaltyallocation (royalty_run_id, contract_id, sales_file_id, line_number, content)
SELECT %s, p.contract_id, p.sales_file_id, p.line_number, l.content
FROM royalty_paid p JOIN royalty_lines l USING (sales_file_id, line_number)
"""
SUSPENSE_FIELDS = ("artist", "isrc", "upc", "title", "dsp", "period", "lines", "units", "revenue")
DUPLICATE_FIELDS = ("sales_file_id", "earlier_file_id", "lines", "revenue")


def _stage(cursor, run: StatementRun, file_ids: list[int], fx: list[tuple]) -> None:
    """The temporary tables the queries below read; the caller holds a transaction."""
    for sql in STAGE_SQL:
        cursor.execute(sql)
    cursor.executemany("INSERT INTO royalty_fx VALUES (%s, %s, %s, %s, %s)", fx)
    lines = _lines(run, file_ids).values(
        "sales_file_id",
        "line_number",
        "period",
        "dsp",
        "territory",
        "isrc",
        "upc",
        "artist",
        "title",
        "sale_type",
        "currency",
        "units",
        "revenue",
        "use_type",
        "commercial_model",
    )
    lines_sql, lines_params = lines.query.sql_with_params()
    cursor.execute(LINES_SQL.format(lines=lines_sql, content=CONTENT_SQL), lines_params)
    cursor.execute("ANALYZE royalty_lines")
    cursor.execute(DUPLICATES_SQL)
    cursor.execute(DROP_DUPLICATES_SQL)
    cursor.execute(SCOPE_SQL)
    cursor.execute("ANALYZE royalty_fx, royalty_lines, royalty_scope")
    cursor.execute(CANDIDATES_SQL)
    cursor.execute("ANALYZE royalty_candidates")
    cursor.execute(PAID_SQL)
    cursor.execute("ANALYZE royalty_paid")


def _matched_groups(run: StatementRun, file_ids: list[int], fx: list[tuple]):
    with connection.cursor() as cursor:
        _stage(cursor, run, file_ids, fx)
        cursor.execute(DUPLICATES_SUMMARY_SQL)
        duplicates = [dict(zip(DUPLICATE_FIELDS, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(GROUPS_SQL)
        groups = cursor.fetchall()
        cursor.execute(SUSPENSE_SQL)
        suspense = [dict(zip(SUSPENSE_FIELDS, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(ALREADY_SQL)
        already = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(sum(converted), 0) FROM royalty_lines")
        revenue = cursor.fetchone()[0]
    return groups, suspense, already, revenue, duplicates


def allocate(royalty_run_id: int) -> None:
    """Record the lines the run pays, per contract: call in the transaction that ran `compute`,
    whose staged tables it reads."""
    with connection.cursor() as cursor:
        cursor.execute(ALLOCATE_SQL, [royalty_run_id])


def _split_problems(contracts) -> list[str]:
    problems = []
    for contract in sorted(contracts, key=lambda c: c.name):
        total = sum((split.share for split in contract.splits.all()), ZERO)
        if total != HUNDRED:
            problems.append(f"Contract {contract.name!r}: splits add up to {total} %, not 100 %.")
    return problems


def _apply_ledger(run: StatementRun, by_payee: dict[int, PayeeStatement], sequence: int) -> None:
    """Opening balances, outstanding advances, reserves due for release; then recoupment and payable."""
    entries = RoyaltyLedgerEntry.objects.filter(currency=run.currency)
    balances = entries.values("payee_id", "contract_id").annotate(
        balance=Sum("amount", filter=~Q(kind__in=MEMO_KINDS), default=ZERO),
        debited=Sum("amount", filter=Q(kind__in=DEBITS), default=ZERO),
        recouped=Sum("amount", filter=Q(kind=K.RECOUPMENT), default=ZERO),
    )
    balances = [b for b in balances if b["balance"] or b["debited"] or b["recouped"]]
    # Payees without earnings this run still get a statement when they carry a balance.
    missing = {b["payee_id"] for b in balances if b["balance"]} - by_payee.keys()
    for payee in Payee.objects.filter(pk__in=missing):
        by_payee[payee.pk] = PayeeStatement(payee)
    contracts = Contract.objects.in_bulk(
        {b["contract_id"] for b in balances} | {c for s in by_payee.values() for c in s.earnings_by_contract}
    )
    for b in balances:
        if b["payee_id"] not in by_payee:
            continue
        pool = _pool(by_payee[b["payee_id"]], contracts[b["contract_id"]])
        pool.opening = EXACT.add(pool.opening, b["balance"])
        pool.outstanding = EXACT.subtract(EXACT.subtract(pool.outstanding, b["debited"]), b["recouped"])
    releasable = entries.filter(kind=K.RESERVE_HELD, released_by__isnull=True, payee_id__in=by_payee.keys())
    for held in releasable.select_related("royalty_run", "contract"):
        if held.royalty_run.sequence + held.contract.reserve_periods <= sequence:
            statement = by_payee[held.payee_id]
            statement.releases.append((held.pk, held.contract_id, -held.amount))
            pool = _pool(statement, held.contract)
            pool.reserve_released = EXACT.subtract(pool.reserve_released, held.amount)
    for statement in by_payee.values():
        for contract_id, amount in statement.earnings_by_contract.items():
            pool = _pool(statement, contracts[contract_id])
            pool.earnings = EXACT.add(pool.earnings, amount)
        for contract_id, amount in list(statement.held_by_contract.items()):
            # Returns can outweigh a period's downloads; a reserve is never negative.
            amount = statement.held_by_contract[contract_id] = max(ZERO, amount)
            pool = _pool(statement, contracts[contract_id])
            pool.reserve_held = EXACT.add(pool.reserve_held, amount)
        _recoup_and_pay(statement)


def _pool(statement: PayeeStatement, contract: Contract) -> Pool:
    key = contract.pool()
    pool = statement.pools.get(key)
    if pool is None:
        pool = statement.pools[key] = Pool(key, contract.pk)
    pool.lead_contract_id = min(pool.lead_contract_id, contract.pk)
    return pool


def _recoup_and_pay(statement: PayeeStatement) -> None:
    for pool in statement.pools.values():
        net = EXACT.subtract(EXACT.add(pool.earnings, pool.reserve_released), pool.reserve_held)
        pool.recouped = max(ZERO, min(net, pool.outstanding))
    positive = [pool for pool in statement.pools.values() if pool.closing > 0]
    total = ZERO
    for pool in positive:
        total = EXACT.add(total, pool.closing)
    # Below the payee's minimum nothing is paid: every balance is carried to the next run.
    if total > 0 and total >= statement.payee.minimum_payout:
        for pool in positive:
            pool.payable = pool.closing
