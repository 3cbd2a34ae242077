"""A run's royalty statements, computed from its sales lines, the contracts and the ledger.

Set-based in PostgreSQL: one pass over the run's lines (filtered as the report filters them) sums
them per match key (ISRC, UPC, artist, period, sale type, DSP, territory, file, currency, and the
contracts a finalised run already paid the line under); the keys are matched to contracts (ISRC
over UPC over artist, in the contract's validity), converted at the rate the report would use and
summed per contract x sale type x DSP x territory x month x track (`royalty_groups`), each group
with its contract's rate (the most specific override, else the sale type's). NUMERIC keeps every
sum and product exact. Python receives one sum per contract: splits, the ledger's balances,
recoupment, reserves and what is payable are applied per payee (`project.money.EXACT`). The groups
stay in a temporary table for `storage.store` to keep; they are never loaded into Python.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

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
    period_first: str = ""  # the first and last month of the run's lines
    period_last: str = ""
    label_income: list[dict] = field(default_factory=list)  # unmatched groups the label keeps (LabelIncome)
    # Lines left out because their content was paid from (or is in) an earlier file: one dict per
    # (file, earlier file) with the lines and their converted revenue.
    duplicates: list[dict] = field(default_factory=list)


@transaction.atomic  # the staged tables live until the outermost transaction commits
def compute(run: StatementRun) -> RunStatements:
    """Statements of `run` as they would be posted now; ReportNotReady when the run is not PROCESSED.
    Leaves the run's groups of lines in the temporary table `royalty_groups` (read with `RATED_GROUPS`)."""
    files = list(run.sales_files.order_by("pk"))
    if not files:
        raise _not_ready([], set())
    with connection.cursor() as cursor:
        _stage(cursor, run, files)
        cursor.execute(CONTRACT_SUMS_SQL.format(rated=RATED_GROUPS), [list(RESERVED_SALE_TYPES)])
        sums = {contract_id: (earned, reserved) for contract_id, earned, reserved in cursor.fetchall()}
        cursor.execute(SUSPENSE_SQL)
        suspense = [dict(zip(SUSPENSE_FIELDS, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(TOTALS_SQL)
        revenue, period_first, period_last, already = cursor.fetchone()
        cursor.execute(DUPLICATES_SUMMARY_SQL)
        duplicates = [dict(zip(DUPLICATE_FIELDS, row, strict=True)) for row in cursor.fetchall()]
    suspense, label_income = split_label_income(suspense)
    contracts = Contract.objects.filter(pk__in=sums.keys()).prefetch_related("splits__payee")
    problems = _split_problems(contracts)
    for split in {split.payee_id: split for c in contracts for split in c.splits.all()}.values():
        _check_currency(split.payee, run)
    by_payee: dict[int, PayeeStatement] = {}
    for contract in contracts:
        earned, reserved = sums[contract.pk]
        for split in contract.splits.all():
            statement = by_payee.get(split.payee_id)
            if statement is None:
                statement = by_payee[split.payee_id] = PayeeStatement(split.payee)
            part = EXACT.divide(split.share, HUNDRED)
            statement.earnings_by_contract[contract.pk] = EXACT.multiply(earned, part)
            if contract.reserve_rate and reserved:
                held = EXACT.multiply(EXACT.multiply(reserved, part), contract.reserve_rate)
                statement.held_by_contract[contract.pk] = held
    sequence = _sequence(run)
    _apply_ledger(run, by_payee, sequence)
    statements = sorted(by_payee.values(), key=lambda s: (s.payee.name, s.payee.pk))
    return RunStatements(
        run,
        sequence,
        statements,
        suspense,
        already,
        problems,
        revenue,
        period_first or "",
        period_last or "",
        label_income,
        duplicates,
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


def _conversion_rates(run: StatementRun, files, keys) -> list[tuple]:
    """(file, DSP, period, currency, rate) for every (file, DSP, period, currency) of `keys`,
    resolved exactly as the report resolves them; ReportNotReady when a file is not PROCESSED or a
    rate is missing."""
    pending = [f for f in files if f.status != SalesFileStatus.PROCESSED]
    resolve = _rate_resolver(run)
    rates, missing = [], set()
    for sales_file_id, dsp, period, currency in keys:
        rate = resolve({"sales_file_id": sales_file_id, "dsp": dsp, "period": period, "currency": currency})
        if rate is None:
            missing.add((currency, period))
        else:
            rates.append((sales_file_id, dsp, period, currency, rate))
    if pending or missing:
        raise _not_ready(pending, missing)
    return rates


# Staged in temporary tables (dropped at commit) rather than CTEs: analysed, they give the planner
# true row counts, so the joins are hash joins. `royalty_keys` is the one pass over the lines: its
# rows are far fewer than the lines when a track sells in the same DSP, territory and month on
# many lines, and never more. `paid` lists the contracts a finalised run already paid a line
# under (NULL for nearly every line: the allocations of the run's files are few or none).
STAGE_SQL = (
    "DROP TABLE IF EXISTS royalty_fx, royalty_keys, royalty_groups, royalty_override, royalty_duplicates",
    # Millions of groups are summed in memory rather than spilled to disk (for this transaction).
    "SET LOCAL work_mem = '512MB'",
    # Every join here is set against set: a nested loop over a misestimated row count is quadratic.
    "SET LOCAL enable_nestloop = off",
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
# Lines whose content belongs to another file: the earliest file that paid it in a finalised run,
# else the earliest file of this run holding it (only a run of several files can hold it twice).
# They are left out of everything (paid, suspense, revenue) and reported with that earlier file.
DUPLICATES_SQL = """
CREATE TEMP TABLE royalty_duplicates ON COMMIT DROP AS
WITH l AS MATERIALIZED (
  SELECT l.sales_file_id, l.line_number, l.dsp, l.period, l.currency, l.revenue, {content} AS content
  FROM ({lines}) l
), paid AS (
  SELECT content, min(sales_file_id) AS first_file FROM statements_royaltyallocation
  WHERE content IN (SELECT content FROM l) GROUP BY content
){in_run}
SELECT l.sales_file_id, l.line_number, l.dsp, l.period, l.currency, l.revenue,
       {earlier} AS earlier_file_id
FROM l {join} LEFT JOIN paid p USING (content)
WHERE {earlier} <> l.sales_file_id
"""
IN_RUN_SQL = """, in_run AS (
  SELECT content, min(sales_file_id) AS first_file FROM l GROUP BY content HAVING count(*) > 1
)"""
DUPLICATES_SUMMARY_SQL = """
SELECT d.sales_file_id, d.earlier_file_id, count(*), coalesce(sum(d.revenue * fx.rate), 0)
FROM royalty_duplicates d JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency)
GROUP BY 1, 2 ORDER BY 1, 2
"""
DUPLICATE_FIELDS = ("sales_file_id", "earlier_file_id", "lines", "revenue")
LINE_FIELDS = (
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
KEYS_SQL = """
CREATE TEMP TABLE royalty_keys ON COMMIT DROP AS
SELECT l.sales_file_id, l.currency, l.isrc, l.upc, l.artist, l.period, l.sale_type, l.dsp, l.territory, a.paid,
       count(*) AS lines, sum(l.units)::bigint AS units, sum(l.revenue) AS revenue, max(l.title) AS title
FROM ({lines}) l
LEFT JOIN (
  SELECT sales_file_id, line_number, array_agg(contract_id ORDER BY contract_id) AS paid
  FROM statements_royaltyallocation WHERE sales_file_id = ANY (%s) GROUP BY 1, 2
) a USING (sales_file_id, line_number)
WHERE NOT EXISTS (
  SELECT 1 FROM royalty_duplicates d WHERE d.sales_file_id = l.sales_file_id AND d.line_number = l.line_number
)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""
FX_KEYS_SQL = """
SELECT sales_file_id, dsp, period, currency FROM royalty_keys
UNION SELECT sales_file_id, dsp, period, currency FROM royalty_duplicates
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
# Each distinct (ISRC, UPC, artist, period) with the contracts of its most specific match.
MATCH_SQL = """
CREATE TEMP TABLE royalty_match ON COMMIT DROP AS
SELECT isrc, upc, artist, period, contract_id FROM (
  SELECT c.*, min(level) OVER (PARTITION BY isrc, upc, artist, period) AS best FROM (
    SELECT k.isrc, k.upc, k.artist, k.period, s.contract_id, s.level
    FROM royalty_track k JOIN royalty_scope s ON s.level = 1 AND s.value = k.isrc
    WHERE (s.valid_from = '' OR k.period >= s.valid_from) AND (s.valid_to = '' OR k.period <= s.valid_to)
    UNION ALL
    SELECT k.isrc, k.upc, k.artist, k.period, s.contract_id, s.level
    FROM royalty_track k JOIN royalty_scope s ON s.level = 2 AND s.value = k.upc
    WHERE (s.valid_from = '' OR k.period >= s.valid_from) AND (s.valid_to = '' OR k.period <= s.valid_to)
    UNION ALL
    SELECT k.isrc, k.upc, k.artist, k.period, s.contract_id, s.level
    FROM royalty_track k JOIN royalty_scope s ON s.level = 3 AND s.value = k.artist
    WHERE (s.valid_from = '' OR k.period >= s.valid_from) AND (s.valid_to = '' OR k.period <= s.valid_to)
  ) c
) r WHERE level = best
"""
TRACKS_SQL = """
CREATE TEMP TABLE royalty_track ON COMMIT DROP AS
SELECT DISTINCT isrc, upc, artist, period FROM {source}
"""
# A line is paid under each contract of its match but those a finalised run paid it under already.
GROUPS_SQL = """
CREATE TEMP TABLE royalty_groups ON COMMIT DROP AS
SELECT m.contract_id, k.sale_type, k.dsp, k.territory, k.period, k.isrc, max(k.title) AS title,
       sum(k.lines)::bigint AS lines, sum(k.units)::bigint AS units, sum(k.revenue * fx.rate) AS base
FROM royalty_keys k
JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency)
JOIN royalty_match m USING (isrc, upc, artist, period)
WHERE k.paid IS NULL OR NOT m.contract_id = ANY (k.paid)
GROUP BY 1, 2, 3, 4, 5, 6
"""
# The most specific override (DSP over territory over sale type, as `contract_rate`) of each
# contract x sale type x DSP x territory that has one.
OVERRIDE_SQL = """
CREATE TEMP TABLE royalty_override ON COMMIT DROP AS
SELECT DISTINCT ON (g.contract_id, g.sale_type, g.dsp, g.territory)
       g.contract_id, g.sale_type, g.dsp, g.territory, o.rate
FROM (
  SELECT DISTINCT contract_id, sale_type, dsp, territory FROM royalty_groups
  WHERE contract_id IN (SELECT contract_id FROM statements_contractrate)
) g
JOIN statements_contractrate o ON o.contract_id = g.contract_id
  AND (o.dsp = '' OR lower(o.dsp) = lower(g.dsp)) AND (o.territory = '' OR o.territory = g.territory)
  AND (o.sale_type = '' OR o.sale_type = g.sale_type)
ORDER BY g.contract_id, g.sale_type, g.dsp, g.territory,
         o.dsp <> '' DESC, o.territory <> '' DESC, o.sale_type <> '' DESC
"""
# The groups with their rate: FROM clause of the queries that read them.
RATED_GROUPS = """
royalty_groups g JOIN statements_contract c ON c.id = g.contract_id
LEFT JOIN royalty_override o USING (contract_id, sale_type, dsp, territory)
CROSS JOIN LATERAL (SELECT coalesce(o.rate, CASE g.sale_type WHEN 'stream' THEN c.rate_stream
  WHEN 'download' THEN c.rate_download WHEN 'physical' THEN c.rate_physical ELSE c.rate_other END)) r (rate)
"""
CONTRACT_SUMS_SQL = """
SELECT g.contract_id, sum(g.base * r.rate), coalesce(sum(g.base * r.rate) FILTER (WHERE g.sale_type = ANY (%s)), 0)
FROM {rated} GROUP BY 1
"""
SUSPENSE_SQL = """
SELECT k.artist, k.isrc, k.upc, max(k.title), k.dsp, k.period, sum(k.lines)::bigint, sum(k.units)::bigint,
       sum(k.revenue * fx.rate)
FROM royalty_keys k JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency)
WHERE NOT EXISTS (
  SELECT 1 FROM royalty_match m WHERE m.isrc = k.isrc AND m.upc = k.upc AND m.artist = k.artist AND m.period = k.period
)
GROUP BY 1, 2, 3, 5, 6 ORDER BY 1, 2, 3, 5, 6
"""
# Revenue, the first and last month, and the lines a finalised run already paid under every
# contract they match.
TOTALS_SQL = """
SELECT coalesce(sum(k.revenue * fx.rate), 0), min(k.period), max(k.period),
       coalesce(sum(k.lines) FILTER (WHERE k.paid IS NOT NULL AND EXISTS (
         SELECT 1 FROM royalty_match m WHERE (m.isrc, m.upc, m.artist, m.period) = (k.isrc, k.upc, k.artist, k.period)
       ) AND NOT EXISTS (
         SELECT 1 FROM royalty_match m WHERE (m.isrc, m.upc, m.artist, m.period) = (k.isrc, k.upc, k.artist, k.period)
           AND NOT m.contract_id = ANY (k.paid)
       )), 0)::bigint
FROM royalty_keys k JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency)
"""
ALLOCATE_SQL = """
INSERT INTO statements_royaltyallocation (royalty_run_id, contract_id, sales_file_id, line_number, content)
SELECT %s, m.contract_id, l.sales_file_id, l.line_number, {content}
FROM ({lines}) l JOIN royalty_match m USING (isrc, upc, artist, period)
WHERE NOT EXISTS (
  SELECT 1 FROM royalty_duplicates d WHERE d.sales_file_id = l.sales_file_id AND d.line_number = l.line_number
) AND NOT EXISTS (
  SELECT 1 FROM statements_royaltyallocation a
  WHERE a.contract_id = m.contract_id AND a.sales_file_id = l.sales_file_id AND a.line_number = l.line_number
)
"""
SUSPENSE_FIELDS = ("artist", "isrc", "upc", "title", "dsp", "period", "lines", "units", "revenue")


def _lines_sql(run: StatementRun, file_ids: list[int]) -> tuple[str, list]:
    """The report's filtered lines of `run` as SQL and its parameters."""
    sql, params = _lines(run, file_ids).values(*LINE_FIELDS).query.sql_with_params()
    return sql, list(params)


def _stage_matches(cursor, source: str, params: list) -> None:
    """`royalty_match` for the (ISRC, UPC, artist, period) found in `source`."""
    cursor.execute("DROP TABLE IF EXISTS royalty_scope, royalty_track, royalty_match")
    cursor.execute(SCOPE_SQL)
    cursor.execute(TRACKS_SQL.format(source=source), params)
    cursor.execute("ANALYZE royalty_scope, royalty_track")
    cursor.execute(MATCH_SQL)
    cursor.execute("ANALYZE royalty_match")


def _stage_duplicates(cursor, lines_sql: str, params: list, *, several_files: bool) -> None:
    """`royalty_duplicates`: the lines whose content belongs to an earlier file."""
    if several_files:
        sql = DUPLICATES_SQL.format(
            content=CONTENT_SQL,
            lines=lines_sql,
            in_run=IN_RUN_SQL,
            join="LEFT JOIN in_run r USING (content)",
            earlier="coalesce(p.first_file, r.first_file, l.sales_file_id)",
        )
    else:
        sql = DUPLICATES_SQL.format(
            content=CONTENT_SQL,
            lines=lines_sql,
            in_run="",
            join="",
            earlier="coalesce(p.first_file, l.sales_file_id)",
        )
    cursor.execute(sql, params)
    cursor.execute("ANALYZE royalty_duplicates")


def _stage(cursor, run: StatementRun, files) -> None:
    """The temporary tables the queries above read; the caller holds a transaction."""
    file_ids = [f.pk for f in files]
    for sql in STAGE_SQL:
        cursor.execute(sql)
    lines_sql, params = _lines_sql(run, file_ids)
    _stage_duplicates(cursor, lines_sql, params, several_files=len(file_ids) > 1)
    cursor.execute(KEYS_SQL.format(lines=lines_sql), [*params, file_ids])
    cursor.execute(FX_KEYS_SQL)
    fx = _conversion_rates(run, files, cursor.fetchall())
    cursor.executemany("INSERT INTO royalty_fx VALUES (%s, %s, %s, %s, %s)", fx)
    cursor.execute("ANALYZE royalty_fx, royalty_keys")
    _stage_matches(cursor, "royalty_keys", [])
    cursor.execute(GROUPS_SQL)
    cursor.execute("ANALYZE royalty_groups")
    cursor.execute(OVERRIDE_SQL)
    cursor.execute("ANALYZE royalty_override")


@transaction.atomic
def allocate(run: StatementRun, royalty_run_id: int) -> int:
    """Record the lines `run` pays, per contract, but those already paid under it; the number of
    allocations. The caller holds the lock that keeps the statements as computed."""
    file_ids = list(run.sales_files.values_list("pk", flat=True))
    lines_sql, params = _lines_sql(run, file_ids)
    with connection.cursor() as cursor:
        # The planner takes the 4-column match for a few rows and loops over the allocations being
        # inserted once per line (quadratic: minutes for a million lines); hash joins it must be.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("DROP TABLE IF EXISTS royalty_duplicates")
        _stage_duplicates(cursor, lines_sql, params, several_files=len(file_ids) > 1)
        _stage_matches(cursor, f"({lines_sql}) l", params)
        cursor.execute(ALLOCATE_SQL.format(lines=lines_sql, content=CONTENT_SQL), [royalty_run_id, *params])
        return cursor.rowcount


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
