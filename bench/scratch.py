"""What every benchmark shares: a scratch PostgreSQL database, and gunicorn on a loopback port.

The scratch database lives on the server of DATABASE_URL and is dropped at the end, so a benchmark
never touches real data. Without DATABASE_URL, as `make test`, a throwaway embedded server is
started for the benchmark (durable settings, as a real server) and deleted afterwards.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import dj_database_url
import psycopg2

ROOT = Path(__file__).resolve().parents[1]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from project import embedded_db  # noqa: E402  (needs ROOT on sys.path)
from tests.servers import free_port  # noqa: E402


def _admin_execute(config: dict, *statements: str) -> None:
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config.get("PASSWORD") or None,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


@contextmanager
def database_server() -> Iterator[str]:
    """DATABASE_URL, or the URL of a throwaway embedded server that lives as long as the block."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    # Durable settings, as a real server: the benchmark measures what production would do.
    with embedded_db.throwaway_server() as started:
        yield started.url


def database_url(config: dict, name: str) -> str:
    """The URL of database `name` on the server of a parsed DATABASE_URL (a socket folder as host
    is percent-encoded)."""
    auth = config["USER"] + (f":{config['PASSWORD']}" if config.get("PASSWORD") else "")
    host = quote(config["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{auth}@{host}:{config['PORT'] or 5432}/{name}"


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create database `name` next to DATABASE_URL's (or on a throwaway embedded server), yield its
    URL, drop it afterwards."""
    with database_server() as server_url:
        config = dj_database_url.parse(server_url)
        drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        _admin_execute(config, drop, f"CREATE DATABASE {name}")
        try:
            yield database_url(config, name)
        finally:
            _admin_execute(config, drop)


@contextmanager
def gunicorn(*, env: dict, workers: int) -> Iterator[str]:
    """Serve the project with gunicorn on a free loopback port; yield its base URL once healthy."""
    import requests

    # whitenoise warns at every start when STATIC_ROOT does not exist.
    Path(env.get("VAR_DIR", ROOT / "var"), "static").mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "project.wsgi", "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        for _ in range(150):
            time.sleep(0.2)
            try:
                # Any answer means gunicorn serves; /healthz is 503 without a task cluster, which
                # benchmarks do not start.
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.RequestException:
                continue
        else:
            raise SystemExit("gunicorn did not start")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def migrated_django(database_url: str, **environ: str) -> None:
    """Point Django at `database_url` (plus any settings given as environment variables), set it up
    and migrate every app: the start of every in-process benchmark."""
    os.environ.update(environ, DATABASE_URL=database_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
