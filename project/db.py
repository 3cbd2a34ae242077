"""Database helpers shared by the apps: bulk loading with COPY, and progress written on a second
connection so that others see it while the caller's (long) transaction is still open."""

from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from django.db import connection, connections

COPY_CHUNK = 1 << 20
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """`value` escaped for a field of COPY's text format (tab-separated, backslash escapes)."""
    return value.translate(_COPY_ESCAPES)


class _ChunkReader:
    """A read-only file object over an iterator of text chunks, as `copy_expert` expects: each
    chunk is produced when PostgreSQL asks for more, so COPY runs while the caller computes."""

    def __init__(self, chunks: Iterator[str | bytes]):
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        # COPY accepts chunks of any length; an empty one would mean end of data, so skip those.
        for chunk in self._chunks:
            if chunk:
                return chunk.encode() if isinstance(chunk, str) else chunk
        return b""


def copy_from(
    table: str,
    columns: Sequence[str],
    source: BinaryIO | Iterable[str | bytes],
    *,
    options: str = "",
    size: int = COPY_CHUNK,
) -> int:
    """`COPY table (columns) FROM STDIN [WITH (options)]` on the default connection, inside the
    caller's transaction. `source` is a binary file object or an iterable of
    chunks (text or bytes) streamed as they are produced. Returns the number of rows loaded."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    if options:
        sql += f" WITH ({options})"
    reader = source if hasattr(source, "read") else _ChunkReader(iter(source))
    with connection.cursor() as cursor:
        cursor.copy_expert(sql, reader, size=size)
        return cursor.rowcount


class ProgressWriter:
    """Runs progress statements that others must see before the caller's transaction commits:
    through a second connection to the default database, each statement committed at once.
    Progress is advisory: callers decide whether a failed write matters. `close()` releases the
    second connection."""

    def __init__(self) -> None:
        self._side = connections.create_connection("default")
        with self._side.cursor() as cursor:
            # Progress need not survive a crash, so its commits do not wait for the WAL flush.
            cursor.execute("SET synchronous_commit TO off")

    def execute(self, sql: str, params: Sequence = ()) -> None:
        with self._side.cursor() as cursor:
            cursor.execute(sql, params)

    def close(self) -> None:
        self._side.close()
