"""Benchmark of the Moneybird sync and the xlsx export against the fake Moneybird server.

It creates a scratch PostgreSQL database, starts the fake Moneybird of the tests on 127.0.0.1 with
--documents purchase invoices and receipts (3 detail lines each), then times: the first sync (every
document fetched in batches of 100), a sync without changes, a sync after 10% of the documents
changed, and one export of --export documents (xlsx built and stored in a temporary folder). The
scratch database is dropped at the end.

    [DATABASE_URL=postgres://…] .venv/bin/python bench/exports_sync.py [--documents N]
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import migrated_django, scratch_database

SCRATCH_DB = "backoffice_bench_exports"


def timed(label: str, action, count: int):
    started = time.perf_counter()
    value = action()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.2f} s ({count / seconds:,.0f} documents/s) → {value}", flush=True)
    return value


def run(documents: int, export_size: int, url: str, media: str) -> None:
    from exports.fake_moneybird import FakeMoneybird, detail

    fake = FakeMoneybird()
    migrated_django(
        url,
        VAR_DIR=media,
        MONEYBIRD_API_URL=fake.base_url,
        MONEYBIRD_ADMINISTRATION_ID=fake.administration_id,
        MONEYBIRD_TOKEN=fake.token,
        # The fake does not limit; the budget is measured by tests/exports/test_rate_budget.py.
        MONEYBIRD_RATE_LIMIT="1000000",
    )
    from exports import services
    from exports.moneybird import client_from_settings
    from exports.sync import sync_documents

    details = [detail(1), detail(2, tax_rate_id="tax-9"), detail(3, ledger_account_id="led-4100")]
    ids = [
        fake.add("receipt" if number % 5 == 0 else "purchase_invoice", details=details)["id"]
        for number in range(documents)
    ]
    client = client_from_settings()
    try:
        timed("first sync", lambda: sync_documents(client=client), documents)
        timed("sync without changes", lambda: sync_documents(client=client), documents)
        services.create_export(client=client, ids=ids[: documents // 2])
        for doc_id in ids[::10]:
            fake.change(doc_id, state="paid")
        timed("sync after 10% changed", lambda: sync_documents(client=client), documents)
        export = timed(
            f"export of {export_size} documents",
            lambda: services.create_export(client=client, ids=ids[:export_size], ext="bench"),
            export_size,
        )
        print(f"export: {export.row_count:,} rows; POSTs to Moneybird: {len(fake.posts())}")
    finally:
        fake.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--export", type=int, default=2_000)
    args = parser.parse_args()
    with scratch_database(SCRATCH_DB) as url, tempfile.TemporaryDirectory() as media:
        try:
            run(args.documents, args.export, url, media)
        finally:
            from django.db import connections

            connections.close_all()


if __name__ == "__main__":
    main()
