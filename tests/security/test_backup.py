"""`manage.py backup` and `manage.py restore`: a pg_dump plus the manifest of referenced storage
objects, restored into a fresh PostgreSQL database and smoke-checked there; `restore --check`
names every referenced object the storage lacks."""

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
from statements import services as statements
from tests.ingestion.conftest import content, file_name

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
    if connection.vendor != "postgresql":
        pytest.skip("backups are pg_dump archives")
    name = f"{connection.settings_dict['NAME']}_restored"
    admin = admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    settings = connection.settings_dict
    yield f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


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

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": fresh_database,
        "VAR_DIR": str(settings.VAR_DIR),  # the same local storage: media/ under it
        "LOG_LEVEL": "ERROR",
    }
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
