"""The embedded PostgreSQL server (project/embedded_db.py): what `make run`, `make test` and the
benchmarks start when DATABASE_URL is not set."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2
import pytest

from project import embedded_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(open_tmp_path) -> Iterator[Path]:
    folder = open_tmp_path / "pg"
    yield folder
    embedded_db.reset(folder)


def postmasters(data_dir: Path) -> list[psutil.Process]:
    return [
        process
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres"
        and str(data_dir.resolve()) in " ".join(process.info["cmdline"] or [])
    ]


def test_start_initialises_a_socket_only_server_and_creates_the_database(data_dir):
    started = embedded_db.start(data_dir)
    assert started.initialised and (data_dir / "PG_VERSION").exists()
    assert started.url == embedded_db.database_url(data_dir)
    connection = psycopg2.connect(started.url.replace("postgres://", "postgresql://"))
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_setting('listen_addresses'), version()")
        database, listen, version = cursor.fetchone()
    connection.close()
    assert database == embedded_db.DATABASE
    assert listen == "", "no TCP port: the Unix socket only"
    assert version.startswith("PostgreSQL 18")


def test_a_second_start_reuses_the_data_and_stop_leaves_no_postmaster(data_dir):
    url = embedded_db.start(data_dir).url.replace("postgres://", "postgresql://")
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')")
    assert embedded_db.stop(data_dir) is True
    assert postmasters(data_dir) == [] and not embedded_db.is_running(data_dir)
    assert embedded_db.stop(data_dir) is False, "stopping a stopped server is not an error"

    again = embedded_db.start(data_dir)
    assert not again.initialised
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT value FROM kept")
        assert cursor.fetchall() == [("still here",)]
    embedded_db.reset(data_dir)
    assert not data_dir.exists() and postmasters(data_dir) == []


def test_a_data_folder_too_deep_for_a_unix_socket_gets_a_short_socket_folder(open_tmp_path):
    deep = open_tmp_path.joinpath(*(["a-rather-long-folder-name"] * 5), "pg")
    assert embedded_db.socket_dir(deep) != deep.resolve()
    assert len(str(embedded_db.socket_dir(deep))) < 60
    started = embedded_db.start(deep, options=embedded_db.THROWAWAY_OPTIONS)
    try:
        psycopg2.connect(started.url.replace("postgres://", "postgresql://")).close()
    finally:
        embedded_db.reset(deep)


def test_temp_runs_a_command_on_a_throwaway_server_and_deletes_it():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    script = "import os, psycopg2; print(os.environ['DATABASE_URL']); psycopg2.connect(os.environ['DATABASE_URL']).close()"
    result = subprocess.run(
        [sys.executable, "-m", "project.embedded_db", "temp", "--", sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    socket_folder = Path(result.stdout.strip().split("@", 1)[1].split("/", 1)[0].replace("%2F", "/"))
    assert not socket_folder.exists(), "the temporary server's folder is deleted afterwards"


def test_settings_refuse_a_database_url_that_is_not_postgresql(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "DATABASE_URL must be a PostgreSQL URL (postgres://user@host:port/name), not sqlite:…; "
        "leave it unset for the embedded server in var/pg/"
    ]
