"""Benchmark of royalty statements: --lines sales lines, --payees payees, one contract per payee
(artist, UPC or ISRC scope, 1-3 splits, some DSP/territory overrides, reserves and
cross-collateralisation groups), lines in two currencies, 5 % of them matching no contract.

Prints the seconds of loading the lines (COPY), of the sums kept per file (what the task queued
once a file is PROCESSED computes: `statements.services.keep_track_sums`; a draft that finds them
missing computes them itself), of the draft statements as a user sees it after that task (computed
and kept as rows; lines/s and the ratio to the COPY), of a second view (read back), of one payee's whole
statement (its line detail written on first reading, then read again), and of finalising (the
line detail of every contract written, every line allocated, the ledger posted, the kept rows
becoming the finalised statements). A scratch database is created and dropped; figures in
docs/performance.md. `--dump PATH` writes the run's statements and a sample of payees' whole
statements as JSON, to compare two implementations figure by figure.

    .venv/bin/python bench/royalties.py [--lines 1000000] [--payees 5000] [--dump PATH]
"""

import argparse
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import migrated_django, scratch_database

SCRATCH_DB = "backoffice_bench_royalties"
DSPS = ("Spotify", "Apple Music", "Deezer", "Amazon", "YouTube", "Tidal")
TERRITORIES = ("NL", "DE", "US", "GB", "FR", "BE", "SE", "JP")
PERIODS = ("2026-07", "2026-08", "2026-09")
SALE_TYPES = ("stream", "stream", "stream", "download", "physical", "other")


def setup_contracts(payees: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """Payees and contracts; returns the (artist, upc, isrc) of every track the sales may name."""
    from statements.royalties.models import Contract, ContractRate, ContractSplit, Payee

    people = Payee.objects.bulk_create(
        Payee(name=f"Payee {i:04d}", currency="EUR", minimum_payout=Decimal(rng.choice((0, 0, 10, 50))))
        for i in range(payees)
    )
    tracks, contracts, splits, overrides = [], [], [], []
    for i in range(payees):
        artist, upc, isrc = f"Artist {i:04d}", f"87{i:011d}", f"NLA01{i:07d}"
        tracks += [
            (artist, upc, f"NLA01{i:07d}"),
            (artist, upc, f"NLB01{i:07d}"),
            (artist, "", f"NLC01{i:07d}"),
        ]
        scope = {0: {"artists": [artist]}, 1: {"upcs": [upc]}, 2: {"isrcs": [isrc], "artists": [artist]}}[
            i % 3
        ]
        contracts.append(
            Contract(
                name=f"Deal {i:04d}",
                rate_stream=Decimal("0.20"),
                rate_download=Decimal("0.15"),
                rate_physical=Decimal("0.12"),
                rate_other=Decimal("0.10"),
                reserve_rate=Decimal("0.10") if i % 5 == 0 else 0,
                reserve_periods=2,
                cross_collateral_group=f"group {i % 50}" if i % 7 == 0 else "",
                **scope,
            )
        )
    contracts = Contract.objects.bulk_create(contracts)
    for i, contract in enumerate(contracts):
        shares = {1: [100], 2: [60, 40], 3: [50, 30, 20]}[1 + i % 3]
        for k, share in enumerate(shares):
            splits.append(ContractSplit(contract=contract, payee=people[(i + k * 17) % payees], share=share))
        if i % 4 == 0:
            overrides.append(ContractRate(contract=contract, dsp="YouTube", rate=Decimal("0.08")))
            overrides.append(
                ContractRate(contract=contract, territory="JP", sale_type="stream", rate=Decimal("0.18"))
            )
    ContractSplit.objects.bulk_create(splits)
    ContractRate.objects.bulk_create(overrides)
    return tracks


def load_lines(lines: int, tracks, rng: random.Random):
    from django.db import transaction

    from project.db import copy_from
    from statements.models import SalesFile, SalesFileStatus, StatementRun

    sales_file = SalesFile.objects.create(
        name="bench.csv", status=SalesFileStatus.PROCESSED, lines_valid=lines
    )

    def rows():
        for n in range(1, lines + 1):
            if rng.random() < 0.05:
                artist, upc, isrc = f"Unsigned {rng.randrange(500)}", "", ""
            else:
                artist, upc, isrc = rng.choice(tracks)
            cents = rng.randrange(-50, 100_000)
            revenue = Decimal(cents).scaleb(-4)
            currency = "USD" if n % 3 == 0 else "EUR"
            yield (
                f"{sales_file.pk}\t{n}\t{rng.choice(PERIODS)}\t{rng.choice(DSPS)}\t{artist}\t{isrc}\t{upc}\t"
                f"Title {isrc}\t{rng.choice(TERRITORIES)}\t{rng.randrange(1, 500)}\t{revenue}\t{currency}\t"
                f"{rng.choice(SALE_TYPES)}\t\t\t\n"
            )

    columns = (
        "sales_file_id",
        "line_number",
        "period",
        "dsp",
        "artist",
        "isrc",
        "upc",
        "title",
        "territory",
        "units",
        "revenue",
        "currency",
        "sale_type",
        "use_type",
        "commercial_model",
        "release",
    )
    with tempfile.TemporaryFile(
        "w+"
    ) as rendered:  # generated before the clock starts: the COPY alone is timed
        rendered.writelines(rows())
        rendered.seek(0)
        started = time.perf_counter()
        with transaction.atomic():
            copy_from("statements_salesline", columns, rendered)
        copied = time.perf_counter() - started
    run = StatementRun.objects.create(name="Bench Q3", currency="EUR")
    run.sales_files.add(sales_file)
    run.rates.bulk_create(
        run.rates.model(run=run, currency="USD", period=p, rate=Decimal("0.9213")) for p in PERIODS
    )
    return run, copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--payees", type=int, default=5_000)
    parser.add_argument("--dump", type=Path, help="write the statements as JSON to this file")
    parser.add_argument("--scratch-db", default=SCRATCH_DB)
    parser.add_argument(
        "--no-finalise", action="store_true", help="stop after the views (finalising 10M lines takes minutes)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="royalties-bench-"))
    with scratch_database(args.scratch_db) as url:
        migrated_django(url, VAR_DIR=str(workdir / "var"))
        from django.db import connection

        from statements.royalties import selectors, services, storage
        from statements.royalties.models import RoyaltyStatementGroup
        from statements.services import keep_track_sums

        rng = random.Random(17)
        tracks = setup_contracts(args.payees, rng)
        run, copied = load_lines(args.lines, tracks, rng)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        started = time.perf_counter()
        assert keep_track_sums(list(run.sales_files.values_list("pk", flat=True)))
        sums = time.perf_counter() - started
        started = time.perf_counter()
        kept = storage.statement_set(run)
        draft = time.perf_counter() - started
        started = time.perf_counter()
        data = selectors.run_statements(run)
        second = time.perf_counter() - started
        payee_id = max(data["statements"], key=lambda s: Decimal(s["summary"]["earnings"]["exact"]))["payee"][
            "id"
        ]
        started = time.perf_counter()
        statement = selectors.payee_statement(run, payee_id)
        one = time.perf_counter() - started
        started = time.perf_counter()
        selectors.payee_statement(run, payee_id)
        one_again = time.perf_counter() - started
        finalised = ""
        if not args.no_finalise:
            started = time.perf_counter()
            royalty = services.finalize_run(run=run)
            finalize = time.perf_counter() - started
            groups = RoyaltyStatementGroup.objects.filter(statement_set=kept).count()
            finalised = (
                f"; finalise {finalize:.1f}s ({groups:,} groups of lines, "
                f"{royalty.allocations.count():,} allocations, {royalty.entries.count():,} ledger entries)"
            )
        print(
            f"{args.lines:,} lines, {args.payees:,} payees: COPY {copied:.1f}s ({args.lines / copied:,.0f} lines/s); "
            f"sums kept per file (the task after import) {sums:.1f}s; draft statements {draft:.1f}s ({args.lines / draft:,.0f} lines/s, {draft / copied:.1f}x the COPY; "
            f"{len(data['statements']):,} statements, {len(data['unallocated']):,} unmatched groups); "
            f"second view {second:.2f}s; one payee's whole statement {one:.2f}s first, {one_again:.2f}s again "
            f"({len(statement['lines']):,} lines){finalised}"
        )
        if args.dump:
            sample = [payee_id, *(s["payee"]["id"] for s in data["statements"][::97])]
            dump = {"data": data, "payees": {str(p): selectors.payee_statement(run, p) for p in sample}}
            args.dump.write_text(json.dumps(dump, default=str, sort_keys=True, indent=0))
        connection.close()


if __name__ == "__main__":
    main()
