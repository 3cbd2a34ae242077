"""Backups: the database as a pg_dump custom-format archive, and a manifest of the storage objects
its rows reference (archived invoice files, uploaded sales files, session CSVs, export files), so a
restore can be checked against the storage it will run with.

The storage itself (S3 bucket or media folder) is backed up by its own means (bucket versioning or
replication, a file-system snapshot): the manifest says what must be there.
"""

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone

from project import storage


@dataclass(frozen=True)
class Reference:
    key: str
    source: str  # "<app>.<Model>#<pk>", to find the row a missing object belongs to


def references() -> Iterator[Reference]:
    """Every storage key a row points at. Read-only; the one place that knows every app's keys."""
    from exports.models import ExportFile
    from ingestion.models import InvoiceFile
    from sessions_app.models import Session
    from statements.models import SalesFile, SalesFileStatus

    for pk, key in InvoiceFile.objects.exclude(archive_path="").values_list("pk", "archive_path"):
        yield Reference(key, f"ingestion.InvoiceFile#{pk}")
    for pk, key in Session.objects.exclude(csv_path="").values_list("pk", "csv_path"):
        yield Reference(key, f"sessions_app.Session#{pk}")
    for sales_file in SalesFile.objects.exclude(status=SalesFileStatus.INITIALIZED).only("pk"):
        yield Reference(sales_file.upload_key, f"statements.SalesFile#{sales_file.pk}")
    for pk, key in ExportFile.objects.filter(deleted=False).values_list("pk", "storage_key"):
        yield Reference(key, f"exports.ExportFile#{pk}")


def _libpq_environment() -> dict[str, str]:
    """pg_dump/pg_restore reach the configured database through libpq's variables (no password
    on a command line)."""
    if connection.vendor != "postgresql":
        raise RuntimeError(f"backups use pg_dump: DATABASE_URL must be PostgreSQL, not {connection.vendor}")
    params = connection.settings_dict
    values = {
        "PGHOST": params["HOST"] or "127.0.0.1",
        "PGPORT": str(params["PORT"] or 5432),
        "PGUSER": params["USER"],
        "PGPASSWORD": params["PASSWORD"],
        "PGDATABASE": params["NAME"],
    }
    return {**os.environ, **{name: value for name, value in values.items() if value}}


def backup(directory: Path) -> tuple[Path, Path]:
    """Write `backoffice-<UTC time>.dump` and `.manifest.json` into `directory`; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    dump, manifest = directory / f"backoffice-{stamp}.dump", directory / f"backoffice-{stamp}.manifest.json"
    # Listed before the dump starts: a row the dump holds beyond the list was written in between,
    # and `restore --check` (which reads the restored rows, not the list) still covers it.
    objects = [asdict(reference) for reference in references()]
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}"],
        env=_libpq_environment(),
        check=True,
        capture_output=True,
        timeout=3600,
    )
    manifest.write_text(
        json.dumps(
            {"created_at": timezone.now().isoformat(), "dump": dump.name, "objects": objects},
            indent=1,
        )
    )
    return dump, manifest


def failure(exc: Exception) -> str:
    """The reason a pg_dump/pg_restore run failed, from its stderr."""
    stderr = getattr(exc, "stderr", None)
    return stderr.decode(errors="replace").strip() if stderr else str(exc)


def database_is_empty() -> bool:
    return not connection.introspection.table_names()


def restore(dump: Path) -> None:
    """Load `dump` into the configured (empty) database."""
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={_libpq_environment()['PGDATABASE']}",
            str(dump),
        ],
        env=_libpq_environment(),
        check=True,
        capture_output=True,
        timeout=3600,
    )


def missing_objects() -> tuple[int, list[Reference]]:
    """(objects referenced, those the storage lacks)."""
    checked, missing = 0, []
    for reference in references():
        checked += 1
        if not storage.exists(reference.key):
            missing.append(reference)
    return checked, missing
