"""The loader of parsed rows with their known-invoice lookup status: one lookup query, then two COPY
streams, no per-row SQL (per-row ORM work would be ~10x slower).

1. ONE set-based lookup of the file's invoice numbers, so every line is written with its status.
2. Line ids come from a block reserved on the lines' sequence and new categories get their ids
   from the categories' sequence, both under table locks that keep other writers out until
   commit (and serialise imports, which is intended). So every id is known while parsing.
3. The parser streams the category links straight into `COPY` — PostgreSQL writes them while
   Python parses the next rows — and spools the lines to a temporary file, copied afterwards.
"""

import logging
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from typing import BinaryIO

from django.db import connection

from ingestion.lookup import LoadResult, lookup_exceptions
from ingestion.models import Category, InvoiceFile, InvoiceLine, InvoiceLineCategory
from ingestion.parsing import RecordParser, RowTuple, count_records
from ingestion.progress import ProgressRecorder
from project import db

logger = logging.getLogger(__name__)
BATCH_SIZE = 5000
SPOOL_IN_MEMORY_BYTES = 16 * 1024 * 1024
Status = InvoiceLine.LookupStatus
LINE_COLUMNS = [
    "id",
    "file_id",
    "line_number",
    "invoice_number",
    "quantity",
    "description",
    "value",
    "lookup_status",
]


def _lock(cursor, model) -> str:
    """Lock out other writers of the model's table until commit; returns the table name."""
    table = model._meta.db_table
    cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE")
    return table


def _reserve_line_ids(cursor, count: int) -> int:
    """Reserve `count` consecutive line ids and return the first."""
    table = _lock(cursor, InvoiceLine)
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
        [table, table, count],
    )
    return cursor.fetchone()[0] - count + 1


class _CategoryIds:
    """Database ids for the parser's category refs; new categories get the sequence's next ids."""

    def __init__(self, cursor, parser: RecordParser):
        self._table = _lock(cursor, Category)
        cursor.execute(f"SELECT key, id FROM {connection.ops.quote_name(self._table)}")  # noqa: S608
        self._existing = dict(cursor.fetchall())
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [self._table])
        self._next_id = cursor.fetchone()[0]
        self._parser = parser
        # Ref → the COPY text of a link after its line id ("\t<category id>\n"); refs are 1-based.
        self.link_text = [""]
        self.new: list[Category] = []

    def catch_up(self) -> None:
        """Give an id to every category the parser registered since the last call."""
        for key in self._parser.keys[len(self.link_text) - 1 :]:
            category_id = self._existing.get(key)
            if category_id is None:
                category_id, self._next_id = self._next_id, self._next_id + 1
                self.new.append(Category(id=category_id, key=key, name=self._parser.categories[key]))
            self.link_text.append(f"\t{category_id}\n")


def insert_new_categories(cursor, categories: _CategoryIds) -> None:
    """Insert the categories first seen in this file with the ids the links already use."""
    if categories.new:
        Category.objects.bulk_create(categories.new)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
            [Category._meta.db_table, categories.new[-1].id],
        )


def _link_chunks(
    rows: Iterator[RowTuple],
    *,
    file_id: int,
    next_id: int,
    exceptions: dict[str, str],
    escape: bool,
    categories: _CategoryIds,
    lines_spool: BinaryIO,
    result: LoadResult,
    progress: ProgressRecorder,
) -> Iterator[str]:
    """Yield COPY text of the category links and spool the lines' COPY text, batch by batch
    (a batch spans BATCH_SIZE records, or ends where the next progress step is due)."""
    lines: list[str] = []
    links: list[str] = []
    status_of, found, past, not_found = exceptions.get, Status.FOUND, result.past, result.not_found
    link_text = categories.link_text.__getitem__
    file_part = f"\t{file_id}\t"
    flush_at = min(BATCH_SIZE, progress.next_at)
    for line_number, number, quantity, description, value, refs in rows:
        status = status_of(number, found)
        if status == found:
            result.found += 1
        else:
            (not_found if status == Status.NOT_FOUND else past).append(number)
        if escape:
            number, description = db.copy_text(number), db.copy_text(description)
        line_id = str(next_id)
        lines.append(
            f"{line_id}{file_part}{line_number}\t{number}\t{quantity}\t{description}\t{value}\t{status}\n"
        )
        if refs:
            # One C-level join per row: "" + id + "\t<category>\n" + id + "\t<category>\n" …
            try:
                links.append(line_id.join(("", *map(link_text, refs))))
            except IndexError:  # the row brings a category not seen before
                categories.catch_up()
                links.append(line_id.join(("", *map(link_text, refs))))
        next_id += 1
        if line_number >= flush_at:
            lines_spool.write("".join(lines).encode())
            result.written += len(lines)
            lines.clear()
            yield "".join(links)
            links.clear()
            progress.update(line_number)
            flush_at = min(line_number + BATCH_SIZE, progress.next_at)
    lines_spool.write("".join(lines).encode())
    result.written += len(lines)
    yield "".join(links)


def copy_rows(
    *,
    invoice_file: InvoiceFile,
    parser: RecordParser,
    text: str,
    today: date,
    progress: ProgressRecorder,
) -> LoadResult:
    """Write the file's valid rows and their category links with two COPY statements."""
    result = LoadResult()
    started = time.perf_counter()
    with connection.cursor() as cursor, tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY_BYTES) as lines_spool:
        # Most files hold no tab, backslash or CR, and then no field needs escaping for COPY.
        escape = any(special in text for special in "\\\t\r")
        exceptions = lookup_exceptions(cursor, text, today, escape=escape)
        logger.debug("lookup: %d exceptions after %.2fs", len(exceptions), time.perf_counter() - started)
        first_id = _reserve_line_ids(cursor, count_records(text))
        categories = _CategoryIds(cursor, parser)
        links = _link_chunks(
            parser.rows(text),
            file_id=invoice_file.pk,
            next_id=first_id,
            exceptions=exceptions,
            escape=escape,
            categories=categories,
            lines_spool=lines_spool,
            result=result,
            progress=progress,
        )
        db.copy_from(InvoiceLineCategory._meta.db_table, ["line_id", "category_id"], links)
        logger.debug("parse + COPY of the links done after %.2fs", time.perf_counter() - started)
        insert_new_categories(cursor, categories)
        lines_spool.seek(0)
        db.copy_from(InvoiceLine._meta.db_table, LINE_COLUMNS, lines_spool)
        logger.debug("COPY of %d lines done after %.2fs", result.written, time.perf_counter() - started)
    return result
