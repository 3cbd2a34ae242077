"""Benchmark of the Settle API's `update` over real HTTP, against PostgreSQL's raw COPY of the same records.

It creates a scratch PostgreSQL database, migrates it, creates a user, a token and an mcCounter
structure, starts gunicorn (2 workers, 127.0.0.1), and posts --batches batches of 1,000 records over
--keys distinct primary-key values from ONE client, sequentially (keep-alive). It prints records per
second, checks that the final counts are exact, measures `COPY FROM STDIN` of the same records into a
plain 3-column table (median of 3) and prints the ratio. The scratch database is dropped at the end.

    .venv/bin/python bench/settlement.py [--batches 300] [--keys 10000] [--workers 2]
"""

import argparse
import http.client
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import gunicorn, scratch_database

SCRATCH_DB = "backoffice_bench_settlement"
BATCH_SIZE = 1000
TARGET_RECORDS_PER_SECOND = 50_000


def generate_batches(batches: int, keys: int, seed: int = 11) -> list[list[dict]]:
    """Records shaped like the spec's sample; keys drawn uniformly from `keys` values."""
    rng = random.Random(seed)
    operations = ("CREATE", "DELETE", "UPDATE")
    return [
        [
            {"app": f"app-{rng.randrange(keys):05d}", "op": rng.choice(operations), "corr": f"AUS-{b}-{i}"}
            for i in range(BATCH_SIZE)
        ]
        for b in range(batches)
    ]


def prepare(url: str) -> str:
    """Migrate the scratch database and create the structure; returns a Bearer token."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections

    from project.tokens import issue_api_token
    from settlement.services import create_structure

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench", is_staff=False)
    _, token = issue_api_token(user=user, name="bench", scopes=["settlement:write"])
    create_structure(
        payload={
            "settleid": "bench",
            "aggregates": ["op"],
            "primaryKey": "app",
            "aggregationType": "mcCounter",
            "settlementType": "none",
            "record": {"app": "a", "op": "CREATE", "corr": "c"},
        },
        user="bench",
    )
    connections.close_all()
    return token


def post_all(base: str, token: str, bodies: list[bytes]) -> float:
    """Post every body on one keep-alive connection; http.client keeps the client's own CPU use low
    (it shares the machine with the server)."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.perf_counter()
    for body in bodies:
        connection.request("POST", "/settlement/bench/update", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise SystemExit(f"update failed: {response.status} {payload[:300]!r}")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def raw_copy_seconds(url: str, batches: list[list[dict]]) -> float:
    """Median of 3 COPYs of the same records, as CSV, into a plain table."""
    buffer = io.StringIO()
    for records in batches:
        for record in records:
            buffer.write(f"{record['app']},{record['op']},{record['corr']}\n")
    content = buffer.getvalue().encode()
    connection = psycopg2.connect(url)
    timings = []
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_raw_copy (app text, op text, corr text)")
        connection.commit()
        for _ in range(3):
            cursor.execute("TRUNCATE bench_raw_copy")
            connection.commit()
            started = time.perf_counter()
            cursor.copy_expert("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv)", io.BytesIO(content))
            connection.commit()
            timings.append(time.perf_counter() - started)
        cursor.execute("DROP TABLE bench_raw_copy")
        connection.commit()
    connection.close()
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300, help="batches of 1,000 records (default 300)")
    parser.add_argument("--keys", type=int, default=10_000, help="distinct primary-key values")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=5, help="batches posted before timing")
    args = parser.parse_args()
    with scratch_database(SCRATCH_DB) as url:
        token = prepare(url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "VAR_DIR": tempfile.mkdtemp(prefix="bench-settlement-"),
            "DATABASE_CONN_MAX_AGE": "600",
        }
        with gunicorn(env=env, workers=args.workers) as base:
            run(base, url, token, args)


def run(base: str, url: str, token: str, args: argparse.Namespace) -> None:
    print(
        f"generating {args.warmup + args.batches} batches of {BATCH_SIZE:,} records over {args.keys:,} keys…"
    )
    batches = generate_batches(args.warmup + args.batches, args.keys)
    bodies = [json.dumps({"record": records}).encode() for records in batches]
    post_all(base, token, bodies[: args.warmup])
    elapsed = post_all(base, token, bodies[args.warmup :])
    records = args.batches * BATCH_SIZE
    rate = records / elapsed

    final = requests.get(
        f"{base}/settlement/bench", headers={"Authorization": f"Bearer {token}"}, timeout=120
    ).json()["output"]["aggregates"]
    counted = sum(int(fields["op"]) for fields in final.values())
    expected = (args.warmup + args.batches) * BATCH_SIZE
    copy_rate = records / raw_copy_seconds(url, batches[args.warmup :])

    print(f"server: gunicorn, {args.workers} workers, 127.0.0.1; one client, sequential keep-alive requests")
    print(f"update: {records:,} records in {elapsed:.2f} s = {rate:,.0f} records/s ({len(final):,} keys)")
    print(f"raw COPY of the same records into a plain table: {copy_rate:,.0f} records/s")
    print(f"ratio update/COPY: {rate / copy_rate:.3f}")
    print(f"final count {counted:,} (expected {expected:,}): {'EXACT' if counted == expected else 'WRONG'}")
    met = "met" if rate >= TARGET_RECORDS_PER_SECOND else "NOT met"
    print(f"target >= {TARGET_RECORDS_PER_SECOND:,} records/s: {met}")
    if counted != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
