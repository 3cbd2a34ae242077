"""A pass over many lines shared among database connections.

PostgreSQL runs the draft's pass over the lines on one core: it joins temporary tables and groups
by GROUPING SETS, and either rules out a parallel plan. So the lines are shared out by line number
among connections that read one snapshot of the data: this transaction's, exported, which the
others import. Each gets a copy of the temporary tables the pass reads, returns its rows, and this
connection adds them up (NUMERIC sums are exact, and the sum of a group's parts has the scale of
the group's sum).

Another connection sees committed rows only, so a pass is shared only by a transaction that has
written nothing yet (`can_share`): the rows it reads are then exactly the others'.
"""

import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connection, connections
from psycopg2 import OperationalError

# (name, column definitions, rows as COPY text) of a temporary table handed to another connection.
Table = tuple[str, str, bytes]
COLUMNS_SQL = """
SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
"""


def can_share() -> bool:
    """Whether other connections would read what this transaction reads: it has written nothing
    (no transaction id assigned yet), and it is not in a savepoint (PostgreSQL exports no snapshot
    from one). Asked before the transaction writes its temporary tables."""
    if connection.savepoint_ids:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
        return cursor.fetchone()[0]


def create_from_shares(
    cursor,
    table: str,
    share_query: Callable[[int, int], tuple[str, list]],
    *,
    shares: int,
    tables: Sequence[str],
    session: Sequence[str],
) -> bool:
    """Temporary table `table` (dropped at commit): the rows of `share_query(k, shares)` (SQL and
    parameters of a SELECT of share k of the lines) for every k, share 0 on this connection while
    the others run on connections of their own, which first run `session` (SET LOCAL statements)
    and get copies of the temporary `tables` the query reads. False, with nothing done, when the
    server refuses another connection (the caller then runs the query alone)."""
    others = _connect(shares - 1)
    if others is None:
        return False
    try:
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        copies = [_copy(cursor, name) for name in tables]
        with ThreadPoolExecutor(max_workers=len(others)) as pool:
            results = [
                pool.submit(_run_share, other, snapshot, copies, session, *share_query(k, shares))
                for k, other in enumerate(others, start=1)
            ]
            sql, query_params = share_query(0, shares)
            cursor.execute(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS {sql}", query_params)
            for result in results:
                cursor.copy_expert(f"COPY {table} FROM STDIN", io.BytesIO(result.result()))
    finally:
        for other in others:
            other.close()
    return True


def _connect(count: int) -> list | None:
    """`count` new connections with this thread's settings, or None (none left open) when the
    server refuses one, e.g. at max_connections."""
    database = connections[DEFAULT_DB_ALIAS]
    params = database.get_connection_params()
    opened = []
    try:
        for _ in range(count):
            opened.append(database.get_new_connection(params))
    except OperationalError:
        for other in opened:
            other.close()
        return None
    return opened


def _copy(cursor, name: str) -> Table:
    cursor.execute(COLUMNS_SQL, [name])
    columns = cursor.fetchone()[0]
    rows = io.BytesIO()
    cursor.copy_expert(f"COPY {name} TO STDOUT", rows)
    return name, columns, rows.getvalue()


def _run_share(
    other, snapshot: str, copies: list[Table], session: Sequence[str], sql: str, query_params: list
) -> bytes:
    """The rows of one share, as COPY text, read on connection `other` in `snapshot`."""
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
        for statement in session:
            cursor.execute(statement)
        for name, columns, rows in copies:
            cursor.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
            cursor.copy_expert(f"COPY {name} FROM STDIN", io.BytesIO(rows))
            cursor.execute(f"ANALYZE {name}")
        result = io.BytesIO()
        cursor.copy_expert(f"COPY ({cursor.mogrify(sql, query_params).decode()}) TO STDOUT", result)
        cursor.execute("ROLLBACK")
    return result.getvalue()
