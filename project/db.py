"""Database helpers shared by the apps."""

from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper


def side_connection() -> BaseDatabaseWrapper | None:
    """A second connection to the default database, for advisory writes (progress) that others
    must see while the caller's own transaction is still open. None on SQLite, which has one
    writer at a time: there the caller writes through its own connection."""
    if connection.vendor != "postgresql":
        return None
    side = connections.create_connection("default")
    with side.cursor() as cursor:
        # Progress need not survive a crash, so its commits do not wait for the WAL flush.
        cursor.execute("SET synchronous_commit TO off")
    return side
