"""Soak: two minutes (SOAK_SECONDS) of mixed load on gunicorn and a django-q2 cluster over a private
PostgreSQL: operators polling the session status, Settle API update batches, a sales-file import,
and public export files written, read and deleted. Zero errors, exact final counts, and the web
server's memory grows less than 10 % after the first minute. Loopback only; every loop is bounded
by time and count.
"""

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.servers.gunicorn import Gunicorn
from tests.servers.postgres import PostgresCluster

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("SOAK_SECONDS", "120"))
SALES_LINES = 50_000
BATCH = 200

PREPARE = """
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from project.tokens import ALL_SCOPES, issue_api_token
from settlement.services import create_structure
operator = User.objects.create_user("soak-operator", password="x")
operator.groups.add(Group.objects.get(name="operators"))
session = SessionStore()
session[SESSION_KEY] = str(operator.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = operator.get_session_auth_hash()
session.create()
machine = User.objects.create_user("soak-machine", is_staff=True)
_, token = issue_api_token(user=machine, scopes=ALL_SCOPES)
create_structure(payload={"settleid": "soak", "aggregates": ["op"], "primaryKey": "app",
    "aggregationType": "mcCounter", "settlementType": "none", "record": {"app": "a", "op": "X"}}, user="soak")
print(session.session_key, token)
"""


def sales_csv(lines: int) -> bytes:
    rows = ["Period,Store,Artist Name,ISRC,UPC,Track Title,Country,Quantity,Net Revenue,Currency"]
    rows += [
        f"2026-09,Spotify,Artist {n % 40},GBAYE26{n % 100000:05d},5056789012345,Track {n},GB,{n % 90 + 1},0.25,GBP"
        for n in range(lines)
    ]
    return "\n".join(rows).encode()


@pytest.fixture
def stack(tmp_path):
    """Private PostgreSQL, migrated; gunicorn (2 workers) and a django-q2 cluster on it."""
    cluster = PostgresCluster()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": cluster.create_database("soak"),
        "DATABASE_CONN_MAX_AGE": "60",
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "WARNING",
    }
    Path(env["VAR_DIR"]).mkdir()
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    prepared = subprocess.run(
        [*manage, "shell", "-c", PREPARE],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    session_key, token = prepared.stdout.split()[-2:]
    log = (tmp_path / "qcluster.log").open("wb")
    workers = subprocess.Popen([*manage, "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(env=env, workers=2)
    try:
        yield server, session_key, token
    finally:
        server.close()
        workers.terminate()
        workers.wait(timeout=60)
        log.close()
        cluster.close()


def test_two_minutes_of_mixed_load_without_errors_leaks_or_lost_counts(stack):
    server, session_key, token = stack
    base, auth = server.url, {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    deadline = started + SECONDS
    errors: list[str] = []
    done: Counter = Counter()
    lock = threading.Lock()

    def expect(response: requests.Response, status: int, what: str) -> bool:
        if response.status_code == status:
            with lock:
                done[what] += 1
            return True
        errors.append(f"{what}: {response.status_code} {response.text[:200]}")
        return False

    def poll_status() -> None:
        session = requests.Session()
        session.cookies.set("sessionid", session_key)
        for _ in range(SECONDS * 10):
            if time.monotonic() > deadline or errors:
                return
            expect(session.get(f"{base}/sessions/status/", timeout=30), 200, "status polls")
            time.sleep(0.2)

    def settle_updates() -> None:
        session = requests.Session()
        body = {"record": [{"app": f"k{n % 50}", "op": "X"} for n in range(BATCH)]}
        for _ in range(SECONDS * 20):
            if time.monotonic() > deadline or errors:
                return
            expect(
                session.post(f"{base}/settlement/soak/update", json=body, headers=auth, timeout=60),
                200,
                "batches",
            )

    def export_files() -> None:
        session = requests.Session()
        url = f"{base}/api/exports/files"
        for n in range(SECONDS * 10):
            if time.monotonic() > deadline or errors:
                return
            name = f"soak-{n}.json"
            if not expect(
                session.post(url, json={"filename": name, "data": {"n": n}}, headers=auth, timeout=60),
                201,
                "files written",
            ):
                return
            expect(session.get(url, params={"filename": name}, headers=auth, timeout=60), 200, "files read")
            if n % 2:
                expect(
                    session.delete(url, json={"filename": name}, headers=auth, timeout=60),
                    200,
                    "files deleted",
                )

    def import_sales_file() -> None:
        api = f"{base}/api/files/salesfiles/"
        created = requests.post(api, json={"name": "soak.csv"}, headers=auth, timeout=60)
        if not expect(created, 201, "sales files"):
            return
        file_id = created.json()["id"]
        files = {"file": ("soak.csv", sales_csv(SALES_LINES))}
        if not expect(
            requests.post(f"{api}{file_id}/content/", files=files, headers=auth, timeout=120), 200, "uploads"
        ):
            return
        if not expect(requests.post(f"{api}{file_id}/process/", headers=auth, timeout=60), 202, "processing"):
            return
        while time.monotonic() < deadline + 120:  # the import may finish after the load ends
            state = requests.get(f"{api}{file_id}/", headers=auth, timeout=60).json()
            if state["status"] in ("PROCESSED", "FAILED"):
                if state["status"] != "PROCESSED" or state["lines_valid"] != SALES_LINES:
                    errors.append(f"sales file: {state}")
                return
            time.sleep(1)
        errors.append("sales file not processed in time")

    threads = [threading.Thread(target=poll_status) for _ in range(5)]
    threads += [threading.Thread(target=settle_updates) for _ in range(2)]
    threads += [threading.Thread(target=export_files), threading.Thread(target=import_sales_file)]
    for thread in threads:
        thread.start()
    time.sleep(min(60, SECONDS / 2))
    memory_after_first_minute = server.rss_bytes()
    for thread in threads:
        thread.join(timeout=SECONDS + 300)
    memory_at_end = server.rss_bytes()

    assert not errors, errors[:5]
    assert done["status polls"] > 0 and done["batches"] > 0 and done["files written"] > 0
    aggregates = requests.get(f"{base}/settlement/soak", headers=auth, timeout=60).json()["output"][
        "aggregates"
    ]
    assert sum(int(fields["op"]) for fields in aggregates.values()) == done["batches"] * BATCH
    listed = requests.get(f"{base}/api/exports/files", headers=auth, timeout=60).json()["files"]
    soak_files = [f for f in listed if str(f.get("name", f.get("filename", ""))).startswith("soak-")]
    assert len(soak_files) == done["files written"] - done["files deleted"]
    growth = (memory_at_end - memory_after_first_minute) / memory_after_first_minute
    print(
        f"soak: {dict(done)}; RSS {memory_after_first_minute >> 20} → {memory_at_end >> 20} MiB ({growth:+.1%})"
    )
    assert growth < 0.10
