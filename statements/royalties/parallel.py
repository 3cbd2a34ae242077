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
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connection, connections

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
) -> None:
    """Temporary table `table` (dropped at commit): the rows of `share_query(k, shares)` (SQL and
    parameters of a SELECT of share k of the lines) for every k, share 0 on this connection while
    the others run on connections of their own, which first run `session` (SET LOCAL statements)
    and get copies of the temporary `tables` the query reads."""
    cursor.execute("SELECT pg_export_snapshot()")
    snapshot = cursor.fetchone()[0]
    copies = [_copy(cursor, name) for name in tables]
    database = connections[DEFAULT_DB_ALIAS]  # this thread's: the others open theirs from its settings
    connect = partial(database.get_new_connection, database.get_connection_params())
    with ThreadPoolExecutor(max_workers=shares - 1) as pool:
        others = [
            pool.submit(_run_share, connect, snapshot, copies, session, *share_query(k, shares))
            for k in range(1, shares)
        ]
        sql, query_params = share_query(0, shares)
        cursor.execute(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS {sql}", query_params)
        for other in others:
            cursor.copy_expert(f"COPY {table} FROM STDIN", io.BytesIO(other.result()))


def _copy(cursor, name: str) -> Table:
    cursor.execute(COLUMNS_SQL, [name])
    columns = cursor.fetchone()[0]
    rows = io.BytesIO()
    cursor.copy_expert(f"COPY {name} TO STDOUT", rows)
    return name, columns, rows.getvalue()


def _run_share(
    connect: Callable,
    snapshot: str,
    copies: list[Table],
    session: Sequence[str],
    sql: str,
    query_params: list,
) -> bytes:
    """The rows of one share, as COPY text, read on a new connection in `snapshot`."""
    other = connect()
    try:
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
    finally:
        other.close()
