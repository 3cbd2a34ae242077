"""Benchmark of the Settle API's `update` over real HTTP, against PostgreSQL's raw COPY of the same records.

It creates a scratch PostgreSQL database, migrates it, creates a user and a token, starts gunicorn
(2 workers, 127.0.0.1) and, for each aggregation type (mcCounter counting `op`, 1CDR summing an
`amount` with --decimals decimal places), posts --batches batches of 1,000 records over --keys
distinct primary-key values to `update?touched=1`:

  * from ONE client, sequentially (keep-alive), --repeat times on fresh structures: the median
    pass's records per second, and the ratio to `COPY FROM STDIN` of the same records into a plain
    table (median of 3);
  * from --clients concurrent clients (the same batches, on a fresh structure): records per second
    and p50/p99 latency per request.

After each run the final state (`GET /settlement/{id}`) must equal the expected counts or exact sums,
key by key. The scratch database is dropped at the end.

    .venv/bin/python bench/settlement.py [--batches 300] [--keys 10000] [--workers 2] [--clients 8]
        [--types mcCounter,1CDR] [--decimals 2] [--repeat 3]
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
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import gunicorn, migrated_django, scratch_database

SCRATCH_DB = "backoffice_bench_settlement"
BATCH_SIZE = 1000
TARGET_RATIO = 0.05
FIELDS = {"mcCounter": ("app", "op", "corr"), "1CDR": ("app", "op", "amount", "corr")}


def generate_batches(kind: str, batches: int, keys: int, decimals: int, seed: int = 11) -> list[list[dict]]:
    """Records shaped like the spec's sample (1CDR adds an amount); keys drawn uniformly."""
    rng = random.Random(seed)
    operations = ("CREATE", "DELETE", "UPDATE")
    scale = 10**decimals
    result = []
    for b in range(batches):
        records = []
        for i in range(BATCH_SIZE):
            record = {"app": f"app-{rng.randrange(keys):05d}", "op": rng.choice(operations)}
            if kind == "1CDR":
                cents = rng.randrange(-10 * scale, 1000 * scale)
                record["amount"] = str(Decimal(cents).scaleb(-decimals))
            record["corr"] = f"AUS-{b}-{i}"
            records.append(record)
        result.append(records)
    return result


def expected_state(kind: str, batches: list[list[dict]]) -> dict[str, Decimal]:
    """Per key: the number of records (mcCounter) or the exact sum of the amounts (1CDR)."""
    if kind == "mcCounter":
        return {key: Decimal(n) for key, n in Counter(r["app"] for b in batches for r in b).items()}
    sums: dict[str, Decimal] = {}
    for records in batches:
        for record in records:
            sums[record["app"]] = sums.get(record["app"], Decimal(0)) + Decimal(record["amount"])
    return sums


def prepare(url: str) -> str:
    """Migrate the scratch database and create a user; returns a Bearer token."""
    migrated_django(url)
    from django.contrib.auth.models import User
    from django.db import connections

    from project.tokens import issue_api_token

    user = User.objects.create_user("bench", is_staff=False)
    _, token = issue_api_token(user=user, name="bench", scopes=["settlement:write"])
    connections.close_all()
    return token


def create(base: str, token: str, settleid: str, kind: str) -> None:
    body = {
        "settleid": settleid,
        "aggregates": ["op"] if kind == "mcCounter" else ["amount"],
        "primaryKey": "app",
        "aggregationType": kind,
        "settlementType": "none",
        "record": {"app": "a", "op": "CREATE", "amount": "0", "corr": "c"},
    }
    response = requests.post(
        f"{base}/settlement/create/", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    if response.status_code != 200:
        raise SystemExit(f"create failed: {response.status_code} {response.text[:300]}")


def post_all(base: str, token: str, settleid: str, bodies: list[bytes], latencies: list[float]) -> float:
    """Post every body on one keep-alive connection; http.client keeps the client's own CPU use low
    (it shares the machine with the server)."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/settlement/{settleid}/update?touched=1"
    started = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - sent)
        if response.status != 200:
            raise SystemExit(f"update failed: {response.status} {payload[:300]!r}")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def post_concurrently(base: str, token: str, settleid: str, bodies: list[bytes], clients: int):
    """`clients` threads, each posting its share of the bodies; (seconds, latencies)."""
    shares = [bodies[n::clients] for n in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(target=post_all, args=(base, token, settleid, share, latencies[n]))
        for n, share in enumerate(shares)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, [value for values in latencies for value in values]


def raw_copy_seconds(url: str, kind: str, batches: list[list[dict]]) -> float:
    """Median of 3 COPYs of the same records, as CSV, into a plain table."""
    columns = FIELDS[kind]
    buffer = io.StringIO()
    for records in batches:
        for record in records:
            buffer.write(",".join(record[name] for name in columns) + "\n")
    content = buffer.getvalue().encode()
    connection = psycopg2.connect(url)
    timings = []
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_raw_copy ({', '.join(f'{c} text' for c in columns)})")
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


def check_final(base: str, token: str, settleid: str, kind: str, batches: list[list[dict]]) -> bool:
    response = requests.get(
        f"{base}/settlement/{settleid}", headers={"Authorization": f"Bearer {token}"}, timeout=300
    )
    final = response.json()["output"].get("aggregates", {})
    field = "op" if kind == "mcCounter" else "amount"
    got = {key: Decimal(fields[field]) for key, fields in final.items()}
    expected = expected_state(kind, batches)
    # 1CDR keys whose amounts cancel out still show "0"; compare without them on both sides.
    exact = {k: v for k, v in got.items() if v or kind == "mcCounter"} == {
        k: v for k, v in expected.items() if v or kind == "mcCounter"
    }
    records = sum(len(b) for b in batches)
    print(f"  final state of {len(final):,} keys ({records:,} records): {'EXACT' if exact else 'WRONG'}")
    return exact


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(base: str, url: str, token: str, kind: str, args: argparse.Namespace) -> bool:
    label = kind if kind == "mcCounter" else f"1CDR ({args.decimals} decimal places)"
    print(
        f"== {label}: {args.warmup + args.batches} batches of {BATCH_SIZE:,} records over {args.keys:,} keys"
    )
    batches = generate_batches(kind, args.warmup + args.batches, args.keys, args.decimals)
    bodies = [json.dumps({"record": records}).encode() for records in batches]
    slug = kind.lower()
    # Like the raw COPY it is compared with, the one-client run is the median of --repeat passes,
    # each on a fresh structure: a single pass of a second or two moves with the machine.
    passes: list[float] = []
    latencies: list[float] = []
    exact = True
    for attempt in range(1, args.repeat + 1):
        settleid = f"one-{slug}-{attempt}"
        create(base, token, settleid, kind)
        post_all(base, token, settleid, bodies[: args.warmup], [])
        passes.append(post_all(base, token, settleid, bodies[args.warmup :], latencies))
        exact = check_final(base, token, settleid, kind, batches) and exact
    elapsed = statistics.median(passes)
    records = args.batches * BATCH_SIZE
    rate = records / elapsed
    copy_rate = records / raw_copy_seconds(url, kind, batches[args.warmup :])
    print(
        f"  one client: {records:,} records in {elapsed:.2f} s (median of {' / '.join(f'{p:.2f}' for p in passes)} s)"
        f" = {rate:,.0f} records/s;"
        f" p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    print(f"  raw COPY of the same records into a plain table: {copy_rate:,.0f} records/s")
    ratio = rate / copy_rate
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"  ratio update/COPY: {ratio:.3f} (target >= {TARGET_RATIO}: {met})")
    if args.clients > 1:
        create(base, token, f"many-{slug}", kind)
        elapsed, latencies = post_concurrently(base, token, f"many-{slug}", bodies, args.clients)
        print(
            f"  {args.clients} clients: {len(bodies) * BATCH_SIZE:,} records in {elapsed:.2f} s ="
            f" {len(bodies) * BATCH_SIZE / elapsed:,.0f} records/s;"
            f" p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
        )
        exact = check_final(base, token, f"many-{slug}", kind, batches) and exact
    return exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300, help="batches of 1,000 records (default 300)")
    parser.add_argument("--keys", type=int, default=10_000, help="distinct primary-key values")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=5, help="batches posted before timing")
    parser.add_argument("--repeat", type=int, default=3, help="one-client passes; the median is reported")
    parser.add_argument(
        "--clients", type=int, default=8, help="concurrent clients of the second run (1: skip)"
    )
    parser.add_argument("--types", default="mcCounter,1CDR", help="aggregation types to measure")
    parser.add_argument("--decimals", type=int, default=2, help="decimal places of the 1CDR amounts")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    with scratch_database(SCRATCH_DB) as url:
        token = prepare(url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "VAR_DIR": tempfile.mkdtemp(prefix="bench-settlement-"),
            "DATABASE_CONN_MAX_AGE": "600",
        }
        print(f"server: gunicorn, {args.workers} workers, 127.0.0.1")
        with gunicorn(env=env, workers=args.workers) as base:
            exact = all([run(base, url, token, kind, args) for kind in args.types.split(",")])
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
