"""Measure a vectorised cleaner (DuckDB) against the Python one on the generic CSV, before choosing.

Both clean the same generated file (bench/statements.py's generic CSV) into the normalised CSV; the
DuckDB one reads with its multi-threaded CSV reader (2 threads, no extensions) and validates with
SQL (period YYYY-MM, ISO codes by pattern, integer units, plain decimals), numbering lines by
position. The script prints both times and whether both produced the same rows.

    .venv/bin/python bench/statements_duckdb.py [--lines 1000000]
"""

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.statements import write_sales_file

CLEAN_SQL = r"""
COPY (
    SELECT line_number, period, dsp, artist, isrc, upc, title, territory, units, revenue, currency,
           'other' AS sale_type, '' AS use_type, '' AS commercial_model, '' AS release
    FROM (SELECT row_number() OVER () + 1 AS line_number, * FROM read_csv(
        $path, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"'))
    WHERE regexp_full_match(period, '\d{4}-(0[1-9]|1[0-2])')
      AND length(trim(dsp)) BETWEEN 1 AND 200 AND length(trim(artist)) BETWEEN 1 AND 500
      AND (isrc IS NULL OR regexp_full_match(isrc, '[A-Z]{2}[A-Z0-9]{3}[0-9]{7}'))
      AND (upc IS NULL OR regexp_full_match(upc, '[0-9]{8,14}'))
      AND regexp_full_match(territory, '[A-Z]{2}') AND regexp_full_match(currency, '[A-Z]{3}')
      AND regexp_full_match(units, '-?[0-9]{1,18}')
      AND regexp_full_match(revenue, '-?[0-9]{1,14}(\.[0-9]{1,16})?')
    ORDER BY line_number
) TO $out (HEADER, DELIMITER ',')
"""


def python_clean(source: Path, target: Path) -> float:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from statements.cleaners import parse
    from statements.cleaners.base import CLEAN_COLUMNS
    from statements.cleaners.profiles import builtin_profiles

    started = time.perf_counter()
    with source.open("rb") as stream, target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CLEAN_COLUMNS)
        _, results, _ = parse(stream, profiles=builtin_profiles())
        writer.writerows(item for item in results if type(item) is tuple)
    return time.perf_counter() - started


def duckdb_clean(source: Path, target: Path) -> float:
    started = time.perf_counter()
    connection = duckdb.connect(config={"threads": 2})
    connection.execute(CLEAN_SQL.replace("$path", f"'{source}'").replace("$out", f"'{target}'"))
    connection.close()
    return time.perf_counter() - started


def rows(path: Path) -> list[tuple]:
    """The cleaned rows with numbers compared by value (DuckDB writes "1.5000" as it read it)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(io.StringIO(handle.read()))
        next(reader)
        return [(int(r[0]), *r[1:8], int(r[8]), Decimal(r[9]).normalize(), *r[10:]) for r in reader]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="statements-duckdb-") as workdir:
        source = Path(workdir, "sales.csv")
        write_sales_file(source, args.lines)
        python_out, duck_out = Path(workdir, "python.csv"), Path(workdir, "duckdb.csv")
        python_seconds = python_clean(source, python_out)
        duck_seconds = duckdb_clean(source, duck_out)
        same = rows(python_out) == rows(duck_out)
        print(
            f"{args.lines:,} lines: Python cleaner {python_seconds:.2f}s, DuckDB cleaner {duck_seconds:.2f}s"
        )
        print(f"same rows: {same}")
        # What real files have and the generated one has not: a quoted field over two lines (the
        # lines after it are numbered by position, so wrongly) and a territory by name.
        odd = Path(workdir, "odd.csv")
        odd.write_text(
            "period,dsp,artist,isrc,upc,title,territory,units,revenue,currency\n"
            '2026-09,Tidal,A,,,"two\nlines",NO,1,0.5,NOK\n2026-09,Tidal,B,,,,Norway,1,0.5,NOK\n'
            "2026-09,Tidal,C,,,,SE,1,0.5,SEK\n"
        )
        python_clean(odd, python_out)
        duckdb_clean(odd, duck_out)
        print(f"quoted line break and a territory name: Python {rows(python_out)}, DuckDB {rows(duck_out)}")


if __name__ == "__main__":
    main()
