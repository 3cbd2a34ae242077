"""A real PostgreSQL restart (a private cluster, stopped and started with pg_ctl) in the middle of an
invoice ingest, a sales-file import and a settlement update burst: nothing half-written, the retry
completes, no duplicates, exact counts; while the database is down the APIs answer 503 in their own
error shapes, and the web app recovers by itself (CONN_HEALTH_CHECKS) without being restarted.

The project runs as it does in production: management commands and gunicorn in their own processes,
pointed at the private cluster by DATABASE_URL.
"""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.servers.gunicorn import Gunicorn
from tests.servers.postgres import PostgresCluster

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DATABASE = "backoffice"


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stderr[-2000:]}"
    return result


def start_manage(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(stream, needle: str, *, timeout: float = 120) -> str:
    """Read `stream` until a line holds `needle` (the process reports it is mid-way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise AssertionError(f"the process ended before printing {needle!r}")
        if needle in line:
            return line
    raise AssertionError(f"no {needle!r} within {timeout} s")


@pytest.fixture(scope="module")
def cluster():
    server = PostgresCluster()
    yield server
    server.close()


@pytest.fixture(scope="module")
def app_env(cluster, tmp_path_factory) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": cluster.create_database(DATABASE),
        "DATABASE_CONN_MAX_AGE": "60",
        "VAR_DIR": str(tmp_path_factory.mktemp("restart-var")),
        "LOG_LEVEL": "ERROR",
        "PYTHONUNBUFFERED": "1",
    }
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    return env


def count(cluster: PostgresCluster, sql: str, params: tuple = ()) -> int:
    return cluster.query(DATABASE, sql, params)[0][0]


def test_restart_mid_ingest_leaves_nothing_and_the_retry_imports_exactly(cluster, app_env, tmp_path):
    records = 200_000
    today = datetime.now(ZoneInfo("Europe/Rome")).date()
    path = tmp_path / f"Letture{today:%Y%m%d}093000000_{records - 1}.txt"
    path.write_bytes("\n".join(f"6{n:08d}|{n % 7}|Toys, Garden|{n}.50" for n in range(records)).encode())
    env = {**app_env, "INGESTION_PROGRESS_EVERY": "10000"}

    importing = start_manage(env, "ingest_file", str(path), "--json")
    wait_for_line(importing.stderr, "records processed")  # the import's transaction is open
    cluster.restart_after(1.0)
    importing.communicate(timeout=120)

    assert importing.returncode != 0
    assert count(cluster, "SELECT count(*) FROM ingestion_invoicefile") == 0
    assert count(cluster, "SELECT count(*) FROM ingestion_invoiceline") == 0

    report = json.loads(manage(env, "ingest_file", str(path), "--json").stdout)
    assert (report["status"], report["records"], report["imported"]) == ("imported", records, records)
    again = json.loads(manage(env, "ingest_file", str(path), "--json", check=False).stdout)
    assert again["status"] == "duplicate"
    assert count(cluster, "SELECT count(*) FROM ingestion_invoiceline") == records
    assert count(cluster, "SELECT count(*) FROM ingestion_invoicefile WHERE status = 'imported'") == 1


CREATE_SALES_FILE = """
from django.core.files.base import ContentFile
from statements import services
rows = ["Period,Store,Artist Name,ISRC,UPC,Track Title,Country,Quantity,Net Revenue,Currency"]
rows += [f"2026-09,Spotify,Artist {n % 50},GBAYE26{n % 100000:05d},5056789012345,Track {n},GB,{n % 90 + 1},0.{n % 1000:03d}100,GBP"
         for n in range(LINES)]
sales_file = services.create_sales_file(name="restart.csv", user=None)
services.store_content(sales_file=sales_file, content=ContentFile("\\n".join(rows).encode(), name="restart.csv"))
print(sales_file.pk)
"""


def test_restart_mid_sales_file_import_is_all_or_nothing_and_the_retry_completes(cluster, app_env):
    lines = 120_000
    file_id = int(
        manage(app_env, "shell", "-c", CREATE_SALES_FILE.replace("LINES", str(lines))).stdout.split()[-1]
    )

    processing = start_manage(app_env, "process_salesfile", str(file_id))
    # On PostgreSQL the COPY into sales lines is fed while the file is cleaned, so the first
    # progress line ("cleaning 50000 lines") means the import transaction is under way.
    wait_for_line(processing.stdout, "lines")
    cluster.restart_after(1.0)
    processing.communicate(timeout=120)

    assert processing.returncode != 0
    assert (
        count(cluster, "SELECT count(*) FROM statements_salesline WHERE sales_file_id = %s", (file_id,)) == 0
    )

    # The crashed run still holds the file (its lease); an operator takes it over with --force.
    manage(app_env, "process_salesfile", str(file_id), "--force")
    manage(app_env, "process_salesfile", str(file_id))  # once more: lines are replaced, never doubled
    status = cluster.query(DATABASE, "SELECT status FROM statements_salesfile WHERE id = %s", (file_id,))
    assert status == [("PROCESSED",)]
    assert (
        count(cluster, "SELECT count(*) FROM statements_salesline WHERE sales_file_id = %s", (file_id,))
        == lines
    )


PREPARE_SETTLEMENT = """
from django.contrib.auth.models import User
from project.tokens import issue_api_token
from settlement.services import create_structure
user = User.objects.create_user("burst", is_staff=True)
_, token = issue_api_token(user=user, scopes=["settlement:write", "statements:read", "exports:read"])
create_structure(payload={"settleid": "burst", "aggregates": ["op"], "primaryKey": "app",
    "aggregationType": "mcCounter", "settlementType": "none", "record": {"app": "a", "op": "X"}}, user="burst")
print(token)
"""


def error_shapes_while_down(base: str, headers: dict) -> dict[str, tuple[int, object]]:
    """What each API answers while the database is down."""
    answers = {}
    for name, path in [
        ("settlement", "/settlement/burst"),
        ("statements", "/api/statement_run/1/"),
        ("exports", "/api/exports/files"),
    ]:
        response = requests.get(base + path, headers=headers, timeout=30)
        answers[name] = (response.status_code, response.json())
    return answers


def test_restart_mid_settlement_burst_counts_exactly_and_the_web_app_recovers(cluster, app_env):
    token = manage(app_env, "shell", "-c", PREPARE_SETTLEMENT).stdout.split()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    clients, batches, size = 4, 20, 250
    record = {"app": "k", "op": "X"}
    progress = {"done": 0, "refused": 0}
    lock = threading.Lock()
    failures: list[str] = []

    server = Gunicorn(env=app_env, workers=2)
    base = server.url
    try:

        def client() -> None:
            session = requests.Session()
            for _ in range(batches):
                deadline = time.monotonic() + 120
                while True:  # a batch is retried until it lands: all-or-nothing makes that safe
                    try:
                        response = session.post(
                            f"{base}/settlement/burst/update",
                            json={"record": [record] * size},
                            headers=headers,
                            timeout=30,
                        )
                    except requests.ConnectionError:
                        response = None
                    if response is not None and response.status_code == 200:
                        break
                    if response is not None and response.status_code != 503:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        return
                    with lock:
                        progress["refused"] += 1
                    if time.monotonic() > deadline:
                        failures.append("no recovery within 120 s")
                        return
                    time.sleep(0.2)
                with lock:
                    progress["done"] += 1

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        while progress["done"] < clients * batches // 4 and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        cluster.stop()
        try:
            down = error_shapes_while_down(base, headers)
            time.sleep(1.0)
        finally:
            cluster.start()
        for thread in threads:
            thread.join(timeout=180)

        assert not failures, failures
        assert progress["refused"] > 0  # the burst really met the outage
        status, body = down["settlement"]
        assert status == 503 and body["error"]["code"] == "SETTLE-00"
        for name in ("statements", "exports"):
            status, body = down[name]
            assert status == 503, (name, body)
            assert "unavailable" in json.dumps(body), (name, body)
        # The same gunicorn, never restarted, answers again.
        response = requests.get(f"{base}/settlement/burst", headers=headers, timeout=30)
        assert response.status_code == 200
        assert response.json()["output"]["aggregates"] == {"k": {"op": str(clients * batches * size)}}
        assert requests.get(f"{base}/api/exports/files", headers=headers, timeout=30).status_code == 200
    finally:
        server.close()
