"""Benchmark of the invoice-file import against PostgreSQL's raw COPY of the same file.

It creates a scratch database, generates a `Letture…` file (default 1,000,000 lines: ≈10% ignored,
≈1% invalid, 3-4 comma-separated categories per row from 200 names, each in mixed case and
spacing as the spec allows) and as many
known invoices, measures `COPY FROM STDIN` of the file into a plain 4-column table (median of 3),
then runs the real import path (`ingestion.services.ingest_bytes`) and prints rows/second and the
ratio ingest-rate / COPY-rate, with the loader's stage timings. The scratch database is dropped
at the end.

    [DATABASE_URL=postgres://…] .venv/bin/python bench/ingest.py [--lines N]
"""

import argparse
import io
import logging
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scratch import migrated_django, scratch_database  # noqa: E402  (needs ROOT on sys.path)

SCRATCH_DB = "backoffice_bench_ingest"
CATEGORY_NAMES = [
    f"{word} {kind}" for word in ("Home", "Garden", "Health", "Sports", "Office") for kind in range(40)
]
TARGET_RATIO = 0.05


def spelling(name: str, rng: random.Random) -> str:
    """The same category as the customer's system might write it: case and spacing vary."""
    variant = rng.random()
    if variant < 0.2:
        name = name.upper()
    elif variant < 0.4:
        name = name.lower()
    elif variant < 0.5:
        name = name.swapcase()
    if rng.random() < 0.4:
        inner = " " * rng.randint(1, 3)
        name = f"{' ' * rng.randint(0, 2)}{name.replace(' ', inner)}{' ' * rng.randint(0, 2)}"
    return name


def generate_file(lines: int, known: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = []
    for number in range(1, lines + 1):
        kind = rng.random()
        invoice = 600_000_000 + rng.randrange(int(known * 1.1))  # ≈9% are not known
        categories = ",".join(spelling(rng.choice(CATEGORY_NAMES), rng) for _ in range(rng.randint(3, 4)))
        quantity, value = rng.randint(1, 20), f"{rng.randint(0, 99999) / 100:.2f}"
        if kind < 0.10:
            invoice = 500_000_000 + number  # ignored: does not start with 6
        elif kind < 0.105:
            invoice = 60_000_000 + number % 1000  # invalid: 8 characters
        elif kind < 0.11:
            quantity = "two"  # invalid quantity
        out.append(f"{invoice}|{quantity}|{categories}|{value}")
    # The customer's system writes no final newline.
    return "\n".join(out).encode()


def raw_copy_seconds(connection, content: bytes) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_copy"
            " (invoice_number text, quantity text, description text, value text)"
        )
        cursor.execute("TRUNCATE bench_raw_copy")
        connection.commit()
        started = time.perf_counter()
        cursor.copy_expert("COPY bench_raw_copy FROM STDIN WITH (DELIMITER '|')", io.BytesIO(content))
        connection.commit()
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw_copy")
        connection.commit()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--known", type=int, default=None, help="known invoices (default: --lines)")
    args = parser.parse_args()
    known = args.known or args.lines
    with scratch_database(SCRATCH_DB) as url:
        try:
            run(args.lines, known, url)
        finally:
            from django.db import connections

            connections.close_all()


def run(lines: int, known: int, url: str) -> None:
    os.environ.setdefault("INGESTION_SUMMARY_RECIPIENTS", "bench@localhost")
    # every app is migrated: the import also writes the audit trail
    migrated_django(url)
    from django.db import connection
    from django.utils import timezone

    from ingestion.services import ingest_bytes

    print(f"generating {lines:,} lines and {known:,} known invoices…", flush=True)
    content = generate_file(lines, known)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO known_invoices (invoice_number, invoice_date, customer_code, customer_name, address,"
            " postcode, city, province, country, weight_kg, parcels)"
            " SELECT (600000000 + g)::text, CASE WHEN g %% 10 = 0 THEN date '2000-01-01' ELSE date '2099-12-31' END,"
            " 'C' || g %% 5000, 'Customer ' || g %% 5000, 'Via Roma ' || g %% 200, '20121', 'Milano', 'MI', 'IT',"
            " (g %% 50) / 4.0, 1 + g %% 3 FROM generate_series(0, %s) AS g",
            [known - 1],
        )
        cursor.execute("ANALYZE known_invoices")
    print(f"file: {len(content) / 1e6:.1f} MB", flush=True)

    raw = psycopg2.connect(url)
    copy_runs = [raw_copy_seconds(raw, content) for _ in range(3)]
    raw.close()
    copy_seconds = statistics.median(copy_runs)
    copy_rate = lines / copy_seconds
    print(
        f"raw COPY: {', '.join(f'{s:.2f}' for s in copy_runs)} s → median {copy_seconds:.2f} s, {copy_rate:,.0f} rows/s"
    )

    logging.basicConfig(format="  %(message)s")
    logging.getLogger("ingestion.pg_copy").setLevel(logging.DEBUG)  # stage timings
    name = f"Letture{timezone.localtime():%Y%m%d%H%M%S}000_{lines - 1}.txt"
    started = time.perf_counter()
    report = ingest_bytes(name=name, content=content, source="manual")
    ingest_seconds = time.perf_counter() - started
    ingest_rate = lines / ingest_seconds
    ratio = ingest_rate / copy_rate
    print(
        f"ingest: {report.status}, {report.file.imported_count:,} imported, {report.file.ignored_count:,} ignored,"
        f" {report.file.invalid_count:,} invalid, {report.file.found_count:,} found,"
        f" {report.file.past_count:,} past, {report.file.not_found_count:,} not found"
    )
    print(f"ingest: {ingest_seconds:.2f} s, {ingest_rate:,.0f} rows/s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ratio ingest/COPY: {ratio:.3f} (target ≥ {TARGET_RATIO}); peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
