"""The README's `make run` path on embedded defaults: SQLite, local files, mails to files."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_setup_runs_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "AWS_", "EMAIL_"))}
    env["VAR_DIR"] = str(tmp_path / "var")
    run_manage("migrate", "--noinput", env=env)
    output = run_manage("demo_setup", env=env)
    assert "demo user: admin" in output and "demo user: operator" in output
    assert (tmp_path / "var" / "db.sqlite3").exists()
    run_manage("setup_schedules", env=env)
    assert "schedules up to date" in run_manage("setup_schedules", env=env)
    run_manage("check", env=env)
