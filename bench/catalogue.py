"""Benchmark of the catalogue upsert a processed sales file triggers (`record_catalogue`): --lines
sales lines over --tracks ISRCs on a tenth as many UPCs, into an empty catalogue, then the same
file again (nothing to fill: no row rewritten). A scratch database is created and dropped; figures
in docs/royalties.md.

    .venv/bin/python bench/catalogue.py [--lines 1000000] [--tracks 50000]
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.royalties import load_lines
from bench.scratch import scratch_database

SCRATCH_DB = "backoffice_bench_catalogue"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--tracks", type=int, default=50_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="catalogue-bench-"))
    with scratch_database(SCRATCH_DB) as url:
        os.environ["DATABASE_URL"] = url
        os.environ["VAR_DIR"] = str(workdir / "var")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction

        from statements.royalties import services
        from statements.royalties.models import Release, Track

        call_command("migrate", verbosity=0)
        tracks = [(f"Artist {n % 5_000}", f"87{n // 10:011d}", f"NLA01{n:07d}") for n in range(args.tracks)]
        run = load_lines(args.lines, tracks, random.Random(17))
        sales_file = run.sales_files.get()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            with transaction.atomic():
                written = services.record_catalogue(sales_file=sales_file)
            timings.append((time.perf_counter() - started, written))
        (first, (releases, tracks_written)), (second, again) = timings
        print(
            f"{args.lines:,} lines: catalogue upsert {first:.1f}s ({releases:,} releases, "
            f"{tracks_written:,} tracks written; {Release.objects.count():,}/{Track.objects.count():,} "
            f"in the catalogue); the same file again {second:.1f}s ({again[0]:,}/{again[1]:,} written)"
        )
        connection.close()


if __name__ == "__main__":
    main()
