"""Benchmark of the statements pipeline against PostgreSQL's own COPY, on a scratch database.

It writes a generic CSV sales file of --lines lines, measures a raw `COPY` of that file into a typed
table (median of 3), then runs the real cleaning + import of the same file (storage: local files)
and prints both rates and their ratio (target >= 0.10), the time of the report for a run over the
file, and the peak memory of the process. The scratch database is created and dropped here.

    .venv/bin/python bench/statements.py [--lines 1000000]
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import scratch_database

SCRATCH_DB = "backoffice_statements_bench"
ARTISTS = [f"Artist {n:03d}" for n in range(300)]
DSPS = ["Spotify", "Apple Music", "Deezer", "YouTube Music", "Amazon Music", "Tidal"]
TERRITORIES = {
    "IT": "EUR",
    "US": "USD",
    "GB": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "SE": "SEK",
    "JP": "JPY",
    "BR": "BRL",
}
PERIODS = ["2026-07", "2026-08", "2026-09"]
RAW_TABLE = """CREATE TABLE bench_raw_copy (
    period varchar(7), dsp varchar(200), artist varchar(500), isrc varchar(12), upc varchar(14),
    title varchar(500), territory varchar(2), units bigint, revenue numeric(30, 16), currency varchar(3))"""


def write_sales_file(path: Path, lines: int) -> None:
    territories = list(TERRITORIES.items())
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("period,dsp,artist,isrc,upc,title,territory,units,revenue,currency\n")
        for n in range(lines):
            territory, currency = territories[n % len(territories)]
            out.write(
                f"{PERIODS[n % 3]},{DSPS[n % 6]},{ARTISTS[n % 300]},GBAYE26{n % 100000:05d},"
                f"50567890{n % 10000:05d},Track {n % 5000},{territory},{(n * 7) % 5000},"
                f"{(n * 13) % 100000 / 10000:.6f},{currency}\n"
            )


def raw_copy_seconds(path: Path) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(RAW_TABLE)
        timings = []
        for _ in range(3):
            cursor.execute("TRUNCATE bench_raw_copy")
            with path.open("rb") as source:
                started = time.perf_counter()
                cursor.copy_expert("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)", source)
                timings.append(time.perf_counter() - started)
        cursor.execute("DROP TABLE bench_raw_copy")
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="statements-bench-"))
    with scratch_database(SCRATCH_DB) as url:
        os.environ["DATABASE_URL"] = url
        run(args.lines, workdir)


def run(lines: int, workdir: Path) -> None:
    os.environ["VAR_DIR"] = str(workdir / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.pop("AWS_STORAGE_BUCKET_NAME", None)
    try:
        import django

        django.setup()
        from django.core.files.storage import default_storage
        from django.core.management import call_command

        from statements import pipeline, services
        from statements.report import build_report

        call_command("migrate", verbosity=0)
        source = workdir / "sales.csv"
        started = time.perf_counter()
        write_sales_file(source, lines)
        size_mb = source.stat().st_size / 1e6
        print(f"generated {lines:,} lines ({size_mb:.1f} MB) in {time.perf_counter() - started:.1f}s")

        copy_seconds = raw_copy_seconds(source)
        copy_rate = lines / copy_seconds
        print(f"raw COPY into a typed table: {copy_seconds:.2f}s (median of 3) = {copy_rate:,.0f} rows/s")

        sales_file = services.create_sales_file(name="bench.csv", user=None)
        with source.open("rb") as content:
            default_storage.save(sales_file.upload_key, content)
        sales_file = services.mark_uploaded(sales_file)
        started = time.perf_counter()
        cleaned = pipeline.clean(sales_file.pk)
        clean_seconds = time.perf_counter() - started
        imported = pipeline.import_lines(cleaned.pk)
        total_seconds = time.perf_counter() - started
        assert imported.status == "PROCESSED", imported.failure_reason
        assert imported.lines_valid == lines, imported.lines_valid
        rate = lines / total_seconds
        print(
            f"cleaning + import: {total_seconds:.2f}s (cleaning {clean_seconds:.2f}s, import "
            f"{total_seconds - clean_seconds:.2f}s) = {rate:,.0f} rows/s"
        )
        print(f"ratio to raw COPY: {rate / copy_rate:.3f} (target >= 0.10)")

        run = services.create_run(
            name="bench",
            currency="EUR",
            artists=[],
            dsps=[],
            periods=[],
            period_from="",
            period_to="",
            sales_file_ids=[imported.pk],
            user=None,
        )
        rates = [
            {"currency": currency, "period": period, "rate": "0.912345"}
            for currency in sorted(set(TERRITORIES.values()) - {"EUR"})
            for period in PERIODS
        ]
        services.replace_rates(run=run, items=rates, user=None)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report = build_report(run)
            timings.append(time.perf_counter() - started)
        print(
            f"report over the run: {statistics.median(timings):.2f}s (median of 3), {len(report.rows):,} rows, "
            f"grand total {report.grand_total} {report.currency}"
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of this process: {peak_mb:.0f} MB")
    finally:
        from django.db import connections

        connections.close_all()
        for path in sorted(workdir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        workdir.rmdir()


if __name__ == "__main__":
    main()
