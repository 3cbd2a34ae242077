"""A run's royalty statements, computed from its sales lines, the contracts and the ledger.

Set-based in PostgreSQL, from the run's lines (filtered as the report filters them) aggregated into
hash tables of tracks or contracts, never of lines: first their sums per file, currency, DSP, month
and track (what contracts match: ISRC over UPC over artist, in the contract's validity; what is
unmatched; the revenue), read from the sums kept per processed file
(`statements.services.keep_track_sums`) unless lines are left out as duplicates; then one pass
over the lines applies each line's conversion rate and contract rate (the most specific override,
else the sale type's) and sums what each contract earned by DSP, month, territory and track
(`royalty_breakdown`); a run of many lines shares that pass among database connections
(`parallel`). NUMERIC keeps every sum and product exact. Python receives one sum per contract: splits, the ledger's balances,
recoupment, reserves and what is payable are applied per payee (`project.money.EXACT`).

The line detail (the lines summed per contract x sale type x DSP x territory x month x track) is
far larger than the statements: `stage_groups` computes it for the contracts whose detail is read,
and for every contract when a run is finalised.
"""

from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q, Sum

from project.money import EXACT
from statements import services as sales_services
from statements.models import SalesFileCombination, SalesFileStatus, SalesFileTrack, StatementRun
from statements.report import _lines, _not_ready, _rate_resolver, run_filtered
from statements.royalties import fx, parallel
from statements.royalties.models import (
    MEMO_KINDS,
    Contract,
    ContractRate,
    LabelIncome,
    Payee,
    RoyaltyLedgerEntry,
    RoyaltyRun,
)
from statements.royalties.problems import problem

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
    # Figures are in the payee's currency: earned in the run's (`run_earnings`), converted at `fx_rate`
    # (None: the payee is paid in the run's currency).
    fx_rate: Decimal | None = None
    run_earnings: Decimal = ZERO

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


def compute(run: StatementRun) -> RunStatements:
    """Statements of `run` as they would be posted now; ReportNotReady when the run is not PROCESSED.
    Leaves what each contract earned by DSP, month, territory and track in the temporary table
    `royalty_breakdown` (for `storage.store`)."""
    # The staged tables live until the outermost transaction commits. In a transaction already,
    # not in a savepoint of its own: PostgreSQL exports no snapshot from one (a shared pass).
    with nullcontext() if connection.in_atomic_block else transaction.atomic():
        return _compute(run)


def _compute(run: StatementRun) -> RunStatements:
    files = list(run.sales_files.order_by("pk"))
    if not files:
        raise _not_ready([], set())
    shareable = parallel.can_share()  # asked before the temporary tables are written
    with connection.cursor() as cursor:
        staged = _stage(cursor, run, files)
        _breakdown(cursor, staged, staged.shares(cursor) if shareable else 1)
        cursor.execute(CONTRACT_SUMS_SQL)
        sums = {contract_id: (earned, reserved) for contract_id, earned, reserved in cursor.fetchall()}
        cursor.execute(SUSPENSE_SQL)
        suspense = [dict(zip(SUSPENSE_FIELDS, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(TOTALS_SQL)
        revenue, period_first, period_last = cursor.fetchone()
        already = 0
        if staged.allocated:
            sql = ALREADY_ALLOCATED_SQL.format(
                lines=staged.lines_sql, and_not_duplicate=staged.where(keyword="AND")
            )
            cursor.execute(sql, [*staged.params, staged.file_ids])
            already = cursor.fetchone()[0]
        cursor.execute(DUPLICATES_SUMMARY_SQL)
        duplicates = [dict(zip(DUPLICATE_FIELDS, row, strict=True)) for row in cursor.fetchall()]
    suspense, label_income = split_label_income(suspense)
    contracts = Contract.objects.filter(pk__in=sums.keys()).prefetch_related("splits__payee")
    problems = _split_problems(contracts)
    rates = fx.payee_rates(run)
    payees = {split.payee_id: split.payee for c in contracts for split in c.splits.all()}
    unrated = fx.unrated(run, payees.values(), rates)
    if unrated:
        problems.append(fx.missing_rates_problem(run, unrated))
    # Without a rate a payee's earnings have no figure in their currency: left out until it is entered.
    left_out = {pk for pk, payee in payees.items() if payee.currency in unrated}
    by_payee: dict[int, PayeeStatement] = {}
    for contract in contracts:
        earned, reserved = sums[contract.pk]
        for split in contract.splits.all():
            if split.payee_id in left_out:
                continue
            statement = by_payee.get(split.payee_id)
            if statement is None:
                statement = by_payee[split.payee_id] = PayeeStatement(split.payee)
                statement.fx_rate = (
                    rates.get(split.payee.currency) if split.payee.currency != run.currency else None
                )
            part = EXACT.divide(split.share, HUNDRED)
            earnings = EXACT.multiply(earned, part)
            statement.run_earnings = EXACT.add(statement.run_earnings, earnings)
            statement.earnings_by_contract[contract.pk] = fx.convert(earnings, statement.fx_rate)
            if contract.reserve_rate and reserved:
                held = EXACT.multiply(EXACT.multiply(reserved, part), contract.reserve_rate)
                statement.held_by_contract[contract.pk] = fx.convert(held, statement.fx_rate)
    sequence = _sequence(run)
    _apply_ledger(by_payee, sequence, left_out)
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


def _breakdown(cursor, staged: "Staged", shares: int) -> None:
    """`royalty_breakdown`: what each contract earned by DSP, month, territory and track, in one
    pass over the lines or in `shares` passes over shares of them, on as many connections (one
    pass when the server has no connection to spare)."""
    reserved = [list(RESERVED_SALE_TYPES)]
    amounts = _amounts(cursor, staged)

    def share_query(k: int, n: int) -> tuple[str, list]:
        rated, params = staged.rated((k, n))
        return BREAKDOWN_SELECT.format(rated=rated, **amounts), [*reserved, *params]

    if shares > 1 and parallel.create_from_shares(
        cursor,
        "royalty_breakdown_shares",
        share_query,
        shares=shares,
        tables=RATED_TABLES,
        session=SESSION_SQL,
    ):
        cursor.execute(SHARED_BREAKDOWN_SQL)
        return
    rated, params = staged.rated()
    cursor.execute(BREAKDOWN_SQL.format(rated=rated, **amounts), [*reserved, *params])


def _amounts(cursor, staged: "Staged") -> dict[str, str]:
    """INTEGER_AMOUNTS (with `royalty_fx.factor` and `.scale` added) when every line's amount
    times 10^S fits a bigint, else NUMERIC_AMOUNTS."""
    cursor.execute(INTEGER_SCALES_SQL)
    (
        revenue_scale,
        fx_scale,
        fx_largest,
        contract_scale,
        contract_largest,
        override_scale,
        override_largest,
    ) = cursor.fetchone()
    digits = (revenue_scale or 0) + (fx_scale or 0) + max(contract_scale or 0, override_scale or 0)
    if digits > 18:  # 10^19 is past a bigint: no amount but 0 would fit
        return NUMERIC_AMOUNTS
    cursor.execute(LARGEST_REVENUE_SQL.format(lines=staged.lines_sql), staged.params)
    revenue_largest = cursor.fetchone()[0] or ZERO
    rate_largest = max(contract_largest or ZERO, override_largest or ZERO)
    # Half the limit: the product is estimated in 28 digits (the decimal context), not exactly.
    if revenue_largest * (fx_largest or ZERO) * rate_largest * 10**digits > BIGINT_LIMIT // 2:
        return NUMERIC_AMOUNTS
    cursor.execute("ALTER TABLE royalty_fx ADD COLUMN factor numeric, ADD COLUMN scale integer")
    cursor.execute("UPDATE royalty_fx SET factor = rate * %s, scale = scale(rate)", [10**digits])
    return {name: sql.replace("{digits}", str(digits)) for name, sql in INTEGER_AMOUNTS.items()}


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
# true row counts, so the joins are hash joins. Nothing staged is as large as the lines: the
# passes over the lines aggregate into hash tables of tracks, contracts and their breakdowns.
SESSION_SQL = (
    # Aggregates are hashed in memory rather than spilled to disk (for this transaction).
    "SET LOCAL work_mem = '512MB'",
    # Every join here is set against set: a nested loop over a misestimated row count is quadratic.
    "SET LOCAL enable_nestloop = off",
)
STAGE_SQL = (
    "DROP TABLE IF EXISTS royalty_fx, royalty_tracks, royalty_combos, royalty_breakdown, royalty_groups,"
    " royalty_override, royalty_duplicates, royalty_breakdown_shares",
    *SESSION_SQL,
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
NO_DUPLICATES_SQL = """
CREATE TEMP TABLE royalty_duplicates (sales_file_id bigint, line_number bigint, dsp text, period text,
  currency text, revenue numeric, earlier_file_id bigint) ON COMMIT DROP
"""
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
# The run's lines but those of another file's content (`royalty_duplicates`, when it has any).
NOT_DUPLICATE_SQL = """NOT EXISTS (
  SELECT 1 FROM royalty_duplicates d WHERE d.sales_file_id = l.sales_file_id AND d.line_number = l.line_number
)"""
# The lines summed as `statements.services.keep_track_sums` keeps them, when they cannot be read
# from there (lines left out as duplicates, a file not PROCESSED): their sums per file, currency,
# DSP, month and track (ISRC, UPC, artist: what contracts match), and the sale type x DSP x
# territory combinations they hold (what rate overrides apply to). Both hash tables hold tracks or
# combinations, not lines.
TRACKS_SQL = """
CREATE TEMP TABLE royalty_tracks ON COMMIT DROP AS
SELECT l.sales_file_id, l.currency, l.dsp, l.period, l.isrc, l.upc, l.artist, l.sale_type, l.territory,
       count(*) AS lines, sum(l.units)::bigint AS units, sum(l.revenue) AS revenue, max(l.title) AS title,
       GROUPING(l.sale_type) = 0 AS combo
FROM ({lines}) l{where}
GROUP BY GROUPING SETS (
  (l.sales_file_id, l.currency, l.dsp, l.period, l.isrc, l.upc, l.artist), (l.sale_type, l.dsp, l.territory)
)
"""
# The same table from the sums kept per file (`statements.services.keep_track_sums`), filtered as
# the lines would be: the run's filters and a contract's scope name keys of the sums. The
# combinations are filtered by DSP only (the run's artists and months are not theirs): one the
# lines do not hold only adds overrides that no line looks up.
KEPT_TRACKS_SQL = """
CREATE TEMP TABLE royalty_tracks ON COMMIT DROP AS
SELECT l.sales_file_id, l.currency, l.dsp, l.period, l.isrc, l.upc, l.artist, NULL AS sale_type,
       NULL AS territory, l.lines, l.units, l.revenue, l.title, false AS combo
FROM ({tracks}) l{where}
UNION ALL
SELECT NULL, NULL, c.dsp, NULL, NULL, NULL, NULL, c.sale_type, c.territory, NULL, NULL, NULL, NULL, true
FROM (SELECT DISTINCT sale_type, dsp, territory FROM ({combinations}) c) c
"""
FX_KEYS_SQL = """
SELECT sales_file_id, dsp, period, currency FROM royalty_tracks WHERE NOT combo
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
TRACK_KEYS_SQL = """
CREATE TEMP TABLE royalty_track ON COMMIT DROP AS
SELECT DISTINCT isrc, upc, artist, period FROM {source}
"""
# The most specific override (DSP over territory over sale type, as `contract_rate`) for each
# contract with overrides x sale type x DSP x territory the lines hold.
OVERRIDE_SQL = """
CREATE TEMP TABLE royalty_override ON COMMIT DROP AS
SELECT DISTINCT ON (g.contract_id, g.sale_type, g.dsp, g.territory)
       g.contract_id, g.sale_type, g.dsp, g.territory, o.rate
FROM (
  SELECT m.contract_id, t.sale_type, t.dsp, t.territory
  FROM (SELECT DISTINCT contract_id FROM royalty_match
        WHERE contract_id IN (SELECT contract_id FROM statements_contractrate)) m
  CROSS JOIN (SELECT sale_type, dsp, territory FROM royalty_tracks WHERE combo) t
) g
JOIN statements_contractrate o ON o.contract_id = g.contract_id
  AND (o.dsp = '' OR lower(o.dsp) = lower(g.dsp)) AND (o.territory = '' OR o.territory = g.territory)
  AND (o.sale_type = '' OR o.sale_type = g.sale_type)
ORDER BY g.contract_id, g.sale_type, g.dsp, g.territory,
         o.dsp <> '' DESC, o.territory <> '' DESC, o.sale_type <> '' DESC
"""
# Each line under each contract it is paid under, converted and with the contract's rate for it:
# the FROM and WHERE of the passes below. A line is paid under each contract of its match but those
# a finalised run paid it under already ({paid}: the allocations of the run's files, when any).
RATED_LINES = """
FROM ({lines}) l
JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency)
JOIN royalty_match m USING (isrc, upc, artist, period)
JOIN statements_contract c ON c.id = m.contract_id
LEFT JOIN royalty_override o
  ON o.contract_id = m.contract_id AND o.sale_type = l.sale_type AND o.dsp = l.dsp AND o.territory = l.territory
CROSS JOIN LATERAL (SELECT coalesce(o.rate, CASE l.sale_type WHEN 'stream' THEN c.rate_stream
  WHEN 'download' THEN c.rate_download WHEN 'physical' THEN c.rate_physical ELSE c.rate_other END)) r (rate)
{paid}{where}
"""
PAID_SQL = """LEFT JOIN (
  SELECT sales_file_id, line_number, contract_id FROM statements_royaltyallocation WHERE sales_file_id = ANY (%s)
) a ON a.sales_file_id = l.sales_file_id AND a.line_number = l.line_number AND a.contract_id = m.contract_id
"""
# The draft's second pass: what each contract earned (the rate applied per line) by DSP, month,
# territory and track, and of it on reserved sale types; hash tables of contracts x DSPs, not of
# groups of lines. Each line's amount is computed once (OFFSET 0 keeps the subquery from being
# flattened, which would compute it once per grouping set and aggregate).
BREAKDOWN_SELECT = """
SELECT contract_id,
       CASE GROUPING(dsp, period, territory, isrc)
         WHEN 7 THEN 'dsp' WHEN 11 THEN 'period' WHEN 13 THEN 'territory' ELSE 'isrc' END AS dimension,
       coalesce(dsp, period, territory, isrc) AS name,
       {earnings} AS earnings, coalesce({reserved}, 0) AS reserved
FROM (
  SELECT m.contract_id, l.dsp, l.period, l.territory, l.isrc, {amount} AS amount, {scale} AS scale,
         l.sale_type = ANY (%s) AS reserved
  {rated} OFFSET 0
) line
GROUP BY GROUPING SETS ((contract_id, dsp), (contract_id, period), (contract_id, territory), (contract_id, isrc))
"""
BREAKDOWN_SQL = f"CREATE TEMP TABLE royalty_breakdown ON COMMIT DROP AS {BREAKDOWN_SELECT}"
# Each line's amount and the sums of the pass in NUMERIC.
NUMERIC_AMOUNTS = {
    "amount": "l.revenue * fx.rate * r.rate",
    "scale": "0",
    "earnings": "sum(amount)",
    "reserved": "sum(amount) FILTER (WHERE reserved)",
}
# The same in integers, where they fit: each line's amount times 10^S (S: the greatest scales of
# the revenues, conversion rates and contract rates, trailing zeros left out, added up), an exact
# integer summed as bigint (PostgreSQL adds bigints in 128 bits, NUMERICs digit by digit: the pass
# takes about a fifth less), scaled back and given the scale NUMERIC gives the sum (the greatest of
# its lines' products' scales): the same value and the same text. `royalty_fx.factor` is its rate
# times 10^S.
INTEGER_AMOUNTS = {
    "amount": "(l.revenue * fx.factor * r.rate)::bigint",
    "scale": "scale(l.revenue) + fx.scale + scale(r.rate)",
    "earnings": "round(sum(amount) * 1e-{digits}, max(scale))",
    "reserved": "round(sum(amount) FILTER (WHERE reserved) * 1e-{digits}, max(scale) FILTER (WHERE reserved))",
}
# What S and the largest amount are made of: the greatest scale of the revenues (the kept sums have
# the greatest scale of their lines), of the conversion rates and of the contract rates the lines
# can be paid at, without trailing zeros; the largest conversion and contract rates.
INTEGER_SCALES_SQL = """
SELECT (SELECT max(scale(revenue)) FROM royalty_tracks WHERE NOT combo),
       (SELECT max(scale(trim_scale(rate))) FROM royalty_fx), (SELECT max(abs(rate)) FROM royalty_fx),
       (SELECT max(greatest(scale(trim_scale(rate_stream)), scale(trim_scale(rate_download)),
                            scale(trim_scale(rate_physical)), scale(trim_scale(rate_other))))
        FROM statements_contract WHERE id IN (SELECT contract_id FROM royalty_match)),
       (SELECT max(greatest(abs(rate_stream), abs(rate_download), abs(rate_physical), abs(rate_other)))
        FROM statements_contract WHERE id IN (SELECT contract_id FROM royalty_match)),
       (SELECT max(scale(trim_scale(rate))) FROM royalty_override), (SELECT max(abs(rate)) FROM royalty_override)
"""
LARGEST_REVENUE_SQL = "SELECT max(abs(l.revenue)) FROM ({lines}) l"
BIGINT_LIMIT = 2**63 - 1
# The temporary tables the pass reads (besides the lines and the contracts), copied to the other
# connections of a shared pass (`parallel.create_from_shares`).
RATED_TABLES = ("royalty_fx", "royalty_match", "royalty_override")
# A shared pass's rows added up: a group of lines in several shares has a row in each.
SHARED_BREAKDOWN_SQL = """
CREATE TEMP TABLE royalty_breakdown ON COMMIT DROP AS
SELECT contract_id, dimension, name, sum(earnings) AS earnings, sum(reserved) AS reserved
FROM royalty_breakdown_shares GROUP BY 1, 2, 3
"""
# The breakdowns with the title of each track: the greatest of its lines' titles in the run (taken
# from the first pass's sums per track rather than aggregated once more per line).
BREAKDOWN_ROWS = """
SELECT b.contract_id, b.dimension, b.name, coalesce(t.title, '') AS title, b.earnings
FROM royalty_breakdown b LEFT JOIN (
  SELECT m.contract_id, t.isrc, max(t.title) AS title
  FROM royalty_tracks t JOIN royalty_match m USING (isrc, upc, artist, period) WHERE NOT t.combo GROUP BY 1, 2
) t ON b.dimension = 'isrc' AND t.contract_id = b.contract_id AND t.isrc = b.name
"""
CONTRACT_SUMS_SQL = """
SELECT contract_id, sum(earnings), sum(reserved) FROM royalty_breakdown WHERE dimension = 'dsp' GROUP BY 1
"""
# The line detail: the lines summed per contract x sale type x DSP x territory x month x track,
# with their rate. Written only for the contracts whose detail is read ({contracts}).
GROUPS_SQL = """
CREATE TEMP TABLE royalty_groups ON COMMIT DROP AS
SELECT m.contract_id, l.sale_type, l.dsp, l.territory, l.period, l.isrc, max(l.title) AS title,
       count(*) AS lines, sum(l.units)::bigint AS units, sum(l.revenue * fx.rate) AS base, r.rate
{rated}
GROUP BY 1, 2, 3, 4, 5, 6, r.rate
"""
SUSPENSE_SQL = """
SELECT t.artist, t.isrc, t.upc, max(t.title), t.dsp, t.period, sum(t.lines)::bigint, sum(t.units)::bigint,
       sum(t.revenue * fx.rate)
FROM royalty_tracks t JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency)
WHERE NOT t.combo AND NOT EXISTS (
  SELECT 1 FROM royalty_match m WHERE m.isrc = t.isrc AND m.upc = t.upc AND m.artist = t.artist AND m.period = t.period
)
GROUP BY 1, 2, 3, 5, 6 ORDER BY 1, 2, 3, 5, 6
"""
# Revenue and the first and last month of the run's lines.
TOTALS_SQL = """
SELECT coalesce(sum(t.revenue * fx.rate), 0), min(t.period), max(t.period)
FROM royalty_tracks t JOIN royalty_fx fx USING (sales_file_id, dsp, period, currency) WHERE NOT t.combo
"""
# The lines a finalised run already paid under every contract they match.
ALREADY_ALLOCATED_SQL = """
SELECT count(*) FROM ({lines}) l
JOIN (
  SELECT sales_file_id, line_number, array_agg(contract_id) AS paid
  FROM statements_royaltyallocation WHERE sales_file_id = ANY (%s) GROUP BY 1, 2
) a USING (sales_file_id, line_number)
WHERE EXISTS (
  SELECT 1 FROM royalty_match m WHERE (m.isrc, m.upc, m.artist, m.period) = (l.isrc, l.upc, l.artist, l.period)
) AND NOT EXISTS (
  SELECT 1 FROM royalty_match m WHERE (m.isrc, m.upc, m.artist, m.period) = (l.isrc, l.upc, l.artist, l.period)
    AND NOT m.contract_id = ANY (a.paid)
){and_not_duplicate}
"""
ALLOCATED_SQL = "SELECT EXISTS (SELECT 1 FROM statements_royaltyallocation WHERE sales_file_id = ANY (%s))"
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
    return _sql(_lines(run, file_ids).values(*LINE_FIELDS))


def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _stage_matches(cursor, source: str, params: list) -> None:
    """`royalty_match` for the (ISRC, UPC, artist, period) found in `source`."""
    cursor.execute("DROP TABLE IF EXISTS royalty_scope, royalty_track, royalty_match")
    cursor.execute(SCOPE_SQL)
    cursor.execute(TRACK_KEYS_SQL.format(source=source), params)
    cursor.execute("ANALYZE royalty_scope, royalty_track")
    cursor.execute(MATCH_SQL)
    cursor.execute("ANALYZE royalty_match")


def _stage_duplicates(cursor, lines_sql: str, params: list, *, several_files: bool) -> bool:
    """`royalty_duplicates`: the lines whose content belongs to an earlier file; whether it has any.
    A single file with nothing ever paid holds none: its lines are not fingerprinted."""
    if not several_files:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM statements_royaltyallocation)")
        if not cursor.fetchone()[0]:
            cursor.execute(NO_DUPLICATES_SQL)
            return False
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
    found = cursor.rowcount > 0
    cursor.execute("ANALYZE royalty_duplicates")
    return found


@dataclass
class Staged:
    """What `_stage` left for the passes over the lines: their SQL and parameters, and whether
    duplicates and earlier allocations must be left out of them."""

    lines_sql: str
    params: list
    file_ids: list[int]
    duplicates: bool
    allocated: bool

    def where(self, *conditions: str, keyword: str = "WHERE") -> str:
        """`conditions` and, when the run has duplicates, NOT_DUPLICATE_SQL, after `keyword`."""
        conditions = (*conditions, *([NOT_DUPLICATE_SQL] if self.duplicates else []))
        return f" {keyword} " + " AND ".join(conditions) if conditions else ""

    def rated(self, share: tuple[int, int] | None = None) -> tuple[str, list]:
        """RATED_LINES and its parameters; with `share` (k, n), of the lines whose number is k
        modulo n only."""
        conditions = ["a.contract_id IS NULL"] if self.allocated else []
        if share is not None:
            conditions.append("mod(l.line_number, %s) = %s")
        paid = PAID_SQL if self.allocated else ""
        sql = RATED_LINES.format(lines=self.lines_sql, paid=paid, where=self.where(*conditions))
        params = [*self.params, *([self.file_ids] if self.allocated else [])]
        return sql, params + ([share[1], share[0]] if share is not None else [])

    def shares(self, cursor) -> int:
        """Among how many connections the pass over the lines is shared: one, unless the run has
        ROYALTY_DRAFT_SPLIT_LINES lines or more, none of them left out as a duplicate or already
        paid (those passes read more temporary tables, rarely of so many lines)."""
        if self.duplicates or self.allocated:
            return 1
        cursor.execute("SELECT coalesce(sum(lines), 0) FROM royalty_tracks WHERE NOT combo")
        many = cursor.fetchone()[0] >= settings.ROYALTY_DRAFT_SPLIT_LINES
        return max(1, settings.ROYALTY_DRAFT_CONNECTIONS) if many else 1


def _stage(cursor, run: StatementRun, files, contract_ids: list[int] | None = None) -> Staged:
    """The temporary tables the passes over the lines read; the caller holds a transaction. With
    `contract_ids`, only the lines those contracts' scopes name are summed per track: their matches
    are what the whole run's would be (every contract's scope is matched against them)."""
    file_ids = [f.pk for f in files]
    for sql in STAGE_SQL:
        cursor.execute(sql)
    lines_sql, params = _lines_sql(run, file_ids)
    duplicates = _stage_duplicates(cursor, lines_sql, params, several_files=len(file_ids) > 1)
    cursor.execute(ALLOCATED_SQL, [file_ids])
    staged = Staged(lines_sql, params, file_ids, duplicates, cursor.fetchone()[0])
    scoped, values = [], []
    if contract_ids is not None:
        scopes = Contract.objects.filter(pk__in=contract_ids).values_list("isrcs", "upcs", "artists")
        values = [sorted({value for scope in scopes for value in scope[level]}) for level in range(3)]
        scoped = ["(l.isrc = ANY (%s) OR l.upc = ANY (%s) OR l.artist = ANY (%s))"]
    # The sums kept per file are of all its lines: with lines left out as duplicates, the lines
    # are summed here instead.
    if not duplicates and sales_services.keep_track_sums(file_ids):
        tracks, track_params = _sql(
            run_filtered(SalesFileTrack.objects.filter(sales_file_id__in=file_ids), run)
        )
        combinations = SalesFileCombination.objects.filter(sales_file_id__in=file_ids)
        if run.dsps:
            combinations = combinations.filter(dsp__in=run.dsps)
        combinations, combination_params = _sql(combinations)
        sql = KEPT_TRACKS_SQL.format(tracks=tracks, where=staged.where(*scoped), combinations=combinations)
        cursor.execute(sql, [*track_params, *values, *combination_params])
    else:
        cursor.execute(TRACKS_SQL.format(lines=lines_sql, where=staged.where(*scoped)), [*params, *values])
    cursor.execute(FX_KEYS_SQL)
    fx = _conversion_rates(run, files, cursor.fetchall())
    cursor.executemany("INSERT INTO royalty_fx VALUES (%s, %s, %s, %s, %s)", fx)
    cursor.execute("ANALYZE royalty_fx, royalty_tracks")
    _stage_matches(cursor, "royalty_tracks WHERE NOT combo", [])
    cursor.execute(OVERRIDE_SQL)
    cursor.execute("ANALYZE royalty_override")
    return staged


def stage_groups(run: StatementRun, contract_ids: list[int] | None = None) -> None:
    """Leave the line detail of `run` (of `contract_ids` only, when given) in the temporary table
    `royalty_groups`; the caller holds the transaction that keeps it."""
    files = list(run.sales_files.order_by("pk"))
    with connection.cursor() as cursor:
        staged = _stage(cursor, run, files, contract_ids)
        if contract_ids is not None:
            cursor.execute("DELETE FROM royalty_match WHERE NOT contract_id = ANY (%s)", [contract_ids])
            cursor.execute("ANALYZE royalty_match")
        rated, params = staged.rated()
        cursor.execute(GROUPS_SQL.format(rated=rated), params)


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
            problems.append(problem("splits_total", contract=contract.name, total=str(total)))
    return problems


def _apply_ledger(by_payee: dict[int, PayeeStatement], sequence: int, left_out: set[int]) -> None:
    """Opening balances, outstanding advances, reserves due for release; then recoupment and
    payable. A payee's statement is their balances in their currency (one balance per currency:
    an advance in EUR recoups EUR earnings); `left_out` payees have no statement."""
    entries = RoyaltyLedgerEntry.objects.filter(currency=F("payee__currency")).exclude(payee_id__in=left_out)
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
