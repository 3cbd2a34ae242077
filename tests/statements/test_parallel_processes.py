"""The demo database (SQLite): several sales files processed at once, by separate processes as
django-q2 workers would, all end PROCESSED, never with `database is locked`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINES = 5_000
SETUP = """
from project import storage
from statements import services
for n in range({files}):
    sales_file = services.create_sales_file(name=f"sales-{{n}}.csv", user=None)
    storage.save(sales_file.upload_key, open({path!r}, "rb"))
    print(sales_file.pk)
"""
STATUSES = """
from statements.models import SalesFile
for f in SalesFile.objects.order_by("pk"):
    print(f.pk, f.status, f.lines_valid, f.failure_reason)
"""


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_files_processed_at_once_on_sqlite_all_finish(tmp_path):
    files = 3
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "AWS_", "DJANGO_SETTINGS"))
    }
    env.update(VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    sales = tmp_path / "sales.csv"
    with sales.open("w") as out:
        out.write("period,dsp,artist,territory,units,revenue,currency\n")
        out.writelines(
            f"2026-09,Spotify,Artist {n % 50},IT,{n % 9 + 1},0.{n:04d},EUR\n" for n in range(LINES)
        )
    assert _manage(env, "migrate", "--verbosity", "0").returncode == 0
    setup = _manage(env, "shell", "--no-imports", "-c", SETUP.format(files=files, path=str(sales)))
    assert setup.returncode == 0, setup.stderr
    ids = setup.stdout.split()

    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "process_salesfile", file_id],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for file_id in ids
    ]
    outcomes = [(worker.wait(timeout=300), *worker.communicate()) for worker in workers]
    assert all(code == 0 for code, _, _ in outcomes), outcomes
    assert not any("locked" in out + err for _, out, err in outcomes)
    statuses = _manage(env, "shell", "--no-imports", "-c", STATUSES).stdout.splitlines()
    assert statuses == [f"{file_id} PROCESSED {LINES} " for file_id in ids]
