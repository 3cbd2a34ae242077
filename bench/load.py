"""Load test against a real gunicorn (2+ workers) on 127.0.0.1.

Two workloads run at the same time for --seconds:
  * 50 operators polling the session status (`GET /sessions/status/`, logged-in sessions) while a
    session run is in progress;
  * 8 settlement clients posting 1,000-record batches (`POST /settlement/<id>/update`, Bearer token).
It prints p50/p99 latency and throughput per workload, the error count, and checks that the final
settlement counts are exact. Everything runs on a scratch PostgreSQL database that is dropped at the end.

    .venv/bin/python bench/load.py [--operators 50] [--clients 8] [--batches 10] [--workers 3]
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import ROOT, gunicorn, scratch_database

SCRATCH_DB = "backoffice_load"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


class Recorder:
    def __init__(self, name: str):
        self.name = name
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def record(self, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if error:
                self.errors.append(error)

    def report(self, elapsed: float, unit_per_request: int = 1, unit: str = "requests") -> str:
        count = len(self.latencies)
        return (
            f"{self.name}: {count} requests, {count * unit_per_request / elapsed:,.0f} {unit}/s, "
            f"p50 {percentile(self.latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(self.latencies, 0.99) * 1000:.1f} ms, errors {len(self.errors)}"
        )


def login(base: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = http.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, f"login failed for {username}: {response.status_code}"
    return http


def poll_status(base: str, http: requests.Session, recorder: Recorder, stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = http.get(f"{base}/sessions/status/", timeout=30)
            error = None if response.status_code == 200 else f"status {response.status_code}"
        except requests.RequestException as exc:
            error = str(exc)
        recorder.record(time.perf_counter() - started, error)


def post_batches(base: str, token: str, client: int, batches: int, keys: int, recorder: Recorder) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    for batch in range(batches):
        records = [
            {
                "app": f"key-{(client * 7919 + batch * 1000 + i) % keys}",
                "op": "CREATE",
                "corr": f"{client}-{i}",
            }
            for i in range(1000)
        ]
        started = time.perf_counter()
        try:
            response = http.post(
                f"{base}/settlement/load/update?touched=1", json={"record": records}, timeout=120
            )
            error = (
                None
                if response.status_code == 200
                else f"status {response.status_code}: {response.text[:200]}"
            )
        except requests.RequestException as exc:
            error = str(exc)
        recorder.record(time.perf_counter() - started, error)


def prepare_in_child(lines: int) -> None:
    """Runs in a child process on the scratch database: users, token, known invoices, today's file."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()
    from datetime import date

    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from ingestion.models import KnownInvoice
    from ingestion.services import ingest_bytes
    from project.tokens import issue_api_token

    operator = User.objects.create_user("load-operator", password="load-operator-pass")
    operator.groups.add(Group.objects.get(name="operators"))
    client = User.objects.create_user("load-client")
    _, token = issue_api_token(user=client, name="load test", scopes=["settlement:write"])
    numbers = [f"6{n:08d}" for n in range(lines)]
    KnownInvoice.objects.bulk_create(
        KnownInvoice(
            invoice_number=number, invoice_date=date(2099, 12, 31), customer_name=f"Customer {number}"
        )
        for number in numbers
    )
    content = "\n".join(f"{number}|1|load|10.00" for number in numbers).encode()
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S%f")[:17]
    report = ingest_bytes(name=f"Letture{stamp}_{lines - 1}.txt", content=content, source="manual")
    assert report.status == "imported", report.as_json()
    print(f"operator=load-operator\noperator_password=load-operator-pass\ntoken={token}")


def prepare(env: dict, lines: int) -> dict:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    result = subprocess.run(
        [sys.executable, __file__, "--prepare", str(lines)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(line.split("=", 1) for line in result.stdout.strip().splitlines() if "=" in line)


def confirm_upload_when_done(ftp_folder: Path, log_folder: Path, done: threading.Event) -> None:
    """Play the receiver: once the load is over, log that the uploaded CSV was read in full."""
    done.wait()
    for _ in range(600):
        uploaded = [p for p in ftp_folder.glob("*.csv")]
        if uploaded:
            rows = uploaded[0].read_bytes().count(b"\n") - 1
            (log_folder / "upload.log").write_text(f"READ {uploaded[0].name} records={rows}\n")
            return
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=10, help="batches of 1,000 records per client")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--lines", type=int, default=20_000, help="lines in the session's invoice file")
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare_in_child(args.prepare)
        return

    import logging
    import tempfile

    from tests.servers.ftp import FtpServer

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    var_dir = Path(tempfile.mkdtemp(prefix="load-var-"))
    ftp = FtpServer(var_dir / "ftp", "outbound")
    log_folder = var_dir / "remote-log"
    log_folder.mkdir(parents=True)
    try:
        with scratch_database(SCRATCH_DB) as database_url:
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "VAR_DIR": str(var_dir),
                "DATABASE_CONN_MAX_AGE": "60",
                "SESSIONS_FTP_URL": ftp.url,
                "SESSIONS_LOG_FS_URL": f"osfs://{log_folder}",
                "SESSIONS_LOG_POLL_INTERVAL": "1",
                "SESSIONS_LOG_TIMEOUT": "900",
                "EMAIL_URL": "locmem://",
            }
            setup = prepare(env, args.lines)
            with gunicorn(env=env, workers=args.workers) as base:
                exact = run_load(base, env, setup, args, ftp.folder, log_folder)
    finally:
        ftp.close()
    if not exact:
        sys.exit(1)


def run_load(base: str, env: dict, setup: dict, args, ftp_folder: Path, log_folder: Path) -> bool:
    """Both workloads at once; True when nothing failed and the final counts are exact."""
    auth = {"Authorization": f"Bearer {setup['token']}"}
    created = requests.post(
        f"{base}/settlement/create/",
        json={
            "settleid": "load",
            "aggregates": ["op"],
            "primaryKey": "app",
            "aggregationType": "mcCounter",
            "settlementType": "none",
            "record": {"app": "a", "op": "CREATE", "corr": "c"},
        },
        headers=auth,
        timeout=30,
    )
    assert created.status_code in (200, 201), created.text
    load_done = threading.Event()
    receiver = threading.Thread(target=confirm_upload_when_done, args=(ftp_folder, log_folder, load_done))
    receiver.start()
    session_run = subprocess.Popen(
        [sys.executable, "manage.py", "run_session"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    operators = [login(base, setup["operator"], setup["operator_password"]) for _ in range(args.operators)]
    status_recorder = Recorder(f"session status ({args.operators} operators)")
    update_recorder = Recorder(f"settlement update ({args.clients} clients x {args.batches} x 1,000 records)")
    stop = threading.Event()
    pollers = [
        threading.Thread(target=poll_status, args=(base, http, status_recorder, stop)) for http in operators
    ]
    clients = [
        threading.Thread(
            target=post_batches, args=(base, setup["token"], n, args.batches, args.keys, update_recorder)
        )
        for n in range(args.clients)
    ]
    started = time.perf_counter()
    for thread in pollers + clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.perf_counter() - started
    load_done.set()
    session_run.wait(timeout=600)
    stop.set()
    for thread in [*pollers, receiver]:
        thread.join()
    polling_elapsed = time.perf_counter() - started
    session = requests.get(f"{base}/sessions/status/", cookies=operators[0].cookies, timeout=30).json()
    final = requests.get(f"{base}/settlement/load", headers=auth, timeout=60).json()["output"]["aggregates"]
    total = sum(int(fields["op"]) for fields in final.values())
    expected = args.clients * args.batches * 1000

    print(
        f"gunicorn workers: {args.workers}; settlement window {elapsed:.1f} s, polling {polling_elapsed:.1f} s"
    )
    print(status_recorder.report(polling_elapsed))
    print(update_recorder.report(elapsed, 1000, "records"))
    print(f"session run exit code {session_run.returncode}; {session['status']}: {session['status_line']}")
    print(
        f"settlement final count: {total} (expected {expected}) -> {'EXACT' if total == expected else 'WRONG'}"
    )
    errors = status_recorder.errors + update_recorder.errors
    for error in errors[:5]:
        print("error:", error)
    return total == expected and not errors and session_run.returncode == 0


if __name__ == "__main__":
    main()
