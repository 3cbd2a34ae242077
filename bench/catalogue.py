"""Benchmark of the catalogue upsert a processed sales file triggers (`record_catalogue`): --lines
sales lines over --tracks ISRCs on a tenth as many UPCs, into an empty catalogue, then the same
file again (nothing to fill: no row rewritten); once with the file's lines scanned for each pair's
first line, once with the first lines collected in Python as the cleaner collects them (the time
that takes is given apart). A scratch database is created and dropped; figures
in docs/performance.md.

    .venv/bin/python bench/catalogue.py [--lines 1000000] [--tracks 50000]
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.royalties import load_lines
from bench.scratch import migrated_django, scratch_database

SCRATCH_DB = "backoffice_bench_catalogue"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--tracks", type=int, default=50_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="catalogue-bench-"))
    with scratch_database(SCRATCH_DB) as url:
        migrated_django(url, VAR_DIR=str(workdir / "var"))
        from django.db import connection

        from statements.royalties.models import Release, Track

        tracks = [(f"Artist {n % 5_000}", f"87{n // 10:011d}", f"NLA01{n:07d}") for n in range(args.tracks)]
        run = load_lines(args.lines, tracks, random.Random(17))
        sales_file = run.sales_files.get()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"{args.lines:,} lines:")
        print(f"  scanning the imported lines: {upserts(lambda: None):s}")
        Track.objects.all().delete()
        Release.objects.all().delete()
        print(
            f"  first lines collected as the cleaner walks them: {upserts(lambda: collected(sales_file)):s}"
        )
        connection.close()


def collected(sales_file) -> tuple[float, dict]:
    """Each ISRC/UPC pair's first row, as the pipeline collects it from the cleaner's chunks of
    rows; the seconds `add_first_lines` took (reading the rows back is not counted)."""
    from django.db import connection, transaction

    from statements.cleaners.base import CLEAN_COLUMNS
    from statements.pipeline import CLEAN_CHUNK
    from statements.royalties import services

    first_lines: services.FirstLines = {}
    spent = 0.0
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(CLEAN_COLUMNS)} FROM statements_salesline WHERE sales_file_id = %s "
            "ORDER BY line_number",
            [sales_file.pk],
        )
        while rows := cursor.fetchmany(CLEAN_CHUNK):
            started = time.perf_counter()
            services.add_first_lines(first_lines, rows)
            spent += time.perf_counter() - started
    return spent, first_lines


def upserts(first_lines) -> str:
    """Two catalogue upserts of the bench's file (an empty catalogue, then the same file again),
    described."""
    from django.db import transaction

    from statements.models import SalesFile
    from statements.royalties import services
    from statements.royalties.models import Release, Track

    sales_file = SalesFile.objects.get()
    timings, collecting = [], ""
    for _ in range(2):
        given = first_lines()
        if given is not None:
            spent, given = given
            collecting = f"; collecting {spent:.2f}s ({len(given):,} pairs)"
        started = time.perf_counter()
        with transaction.atomic():
            written = services.record_catalogue(sales_file=sales_file, first_lines=given)
        timings.append((time.perf_counter() - started, written))
    (first, (releases, tracks_written)), (second, again) = timings
    return (
        f"upsert {first:.2f}s ({releases:,} releases, {tracks_written:,} tracks written; "
        f"{Release.objects.count():,}/{Track.objects.count():,} in the catalogue); the same file again "
        f"{second:.2f}s ({again[0]:,}/{again[1]:,} written){collecting}"
    )


if __name__ == "__main__":
    main()
