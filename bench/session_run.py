"""Benchmark of a session run: CSV generation with progress batches, FTP upload, remote log check.

It creates a scratch PostgreSQL database, imports a `Letture…` file of --lines lines (all with known,
current invoices), starts a loopback FTP server and a receiver that logs each CSV it finds, then
runs `run_session` and prints the time of each step (from the session's step log) and the
generation rate in lines/second. The scratch database is dropped at the end.

    .venv/bin/python bench/session_run.py [--lines 100000] [--batch 1000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import ROOT, scratch_database

SCRATCH_DB = "backoffice_bench_session"


def receiver(ftp_folder: Path, log_path: Path, stop: threading.Event) -> None:
    """Play the customer's receiver: log every CSV that lands with its data line count."""
    seen = set()
    while not stop.wait(0.2):
        for path in ftp_folder.glob("*.csv"):
            if path.name not in seen:
                seen.add(path.name)
                rows = path.read_bytes().count(b"\n") - 1
                with log_path.open("a") as log:
                    log.write(f"READ {path.name} records={rows}\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    from tests.servers.ftp import FtpServer

    var_dir = Path(tempfile.mkdtemp(prefix="bench-session-"))
    ftp = FtpServer(var_dir / "ftp", "outbound")
    log_folder = var_dir / "remote-log"
    log_folder.mkdir()
    with scratch_database(SCRATCH_DB) as url:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="project.settings",
            DATABASE_URL=url,
            VAR_DIR=str(var_dir),
            EMAIL_URL="locmem://",
            SESSIONS_FTP_URL=ftp.url,
            SESSIONS_LOG_FS_URL=f"osfs://{log_folder}",
            SESSIONS_LOG_POLL_INTERVAL="1",
            SESSIONS_LOG_TIMEOUT="120",
            SESSIONS_BATCH_SIZE=str(args.batch),
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
        stop = threading.Event()
        threading.Thread(
            target=receiver, args=(ftp.folder, log_folder / "upload.log", stop), daemon=True
        ).start()
        try:
            run(args.lines)
        finally:
            stop.set()
            ftp.close()
            from django.db import connections

            connections.close_all()


def run(lines: int) -> None:
    import django

    django.setup()
    from datetime import date

    from django.utils import timezone

    from ingestion.models import KnownInvoice
    from ingestion.services import ingest_bytes
    from sessions_app import run as session_run
    from sessions_app import services

    numbers = [f"6{n:08d}" for n in range(lines)]
    KnownInvoice.objects.bulk_create(
        (
            KnownInvoice(
                invoice_number=n,
                invoice_date=date(2099, 12, 31),
                customer_code=n[-5:],
                customer_name=f"Customer {n}; S.r.l.",
                address="Via Roma 1",
                postcode="00100",
                city="Roma",
                country="IT",
                weight_kg="1.500",
                parcels=1,
            )
            for n in numbers
        ),
        batch_size=5000,
    )
    content = "\n".join(f"{n}|2|Toys|10.00" for n in numbers).encode()
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S%f")[:17]
    report = ingest_bytes(name=f"Letture{stamp}_{lines - 1}.txt", content=content, source="manual")
    assert report.status == "imported", report.as_json()

    session = services.start_session(day=timezone.localdate(), enqueue=False)
    started = time.perf_counter()
    session = session_run.run_session(session_id=session.pk, report=lambda line: None)
    elapsed = time.perf_counter() - started
    steps = list(session.steps.order_by("created_at", "id"))
    print(f"lines: {lines}; status: {session.status}; records read: {session.records_read}")
    previous = steps[0].created_at
    for step in steps[1:]:
        print(f"  +{(step.created_at - previous).total_seconds():7.3f} s  {step.kind} {step.outcome}")
        previous = step.created_at
    generate = [s for s in steps if s.kind == "generate"]
    seconds = (generate[-1].created_at - generate[0].created_at).total_seconds()
    print(
        f"generation: {seconds:.2f} s = {lines / seconds:,.0f} lines/s (batches of {os.environ['SESSIONS_BATCH_SIZE']})"
    )
    print(f"whole run (incl. waiting for the receiver's next log poll): {elapsed:.2f} s")


if __name__ == "__main__":
    main()
