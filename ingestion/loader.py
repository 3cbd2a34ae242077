"""Bulk writes of parsed rows and the set-based known-invoice lookup.

PostgreSQL: ONE lookup query for the file's invoice numbers first, so every line is written with
its final status; then the parser streams straight into `COPY` of the lines (ids come from a
block reserved on the lines' sequence), while the category links are spooled to a temporary file
and copied afterwards. PostgreSQL indexes the lines while Python parses the next rows.
Other databases (the SQLite demo) use `bulk_create` in batches and the same lookup as an UPDATE.
"""

import logging
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from django.db import connection
from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from ingestion.models import Category, InvoiceFile, InvoiceLine, InvoiceLineCategory, KnownInvoice
from ingestion.parsing import RecordParser, Row, count_records

logger = logging.getLogger(__name__)
BATCH_SIZE = 5000
SPOOL_IN_MEMORY_BYTES = 16 * 1024 * 1024
CANDIDATE_NUMBER = re.compile(r"6[^|\n]{8}")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
Status = InvoiceLine.LookupStatus


@dataclass
class LoadResult:
    """Lines written and their lookup outcome; the lists keep line order."""

    written: int = 0
    found: int = 0
    not_found: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)


def load_rows(*, invoice_file: InvoiceFile, parser: RecordParser, text: str, today: date) -> LoadResult:
    """Write every valid row of `text` as a line of `invoice_file`, with its lookup status."""
    if connection.vendor == "postgresql":
        return _copy_rows(invoice_file, parser, text, today)
    _bulk_create_rows(invoice_file, parser, text)
    refresh_lookup(invoice_file=invoice_file, today=today)
    return stored_lookup(invoice_file)


def refresh_lookup(*, invoice_file: InvoiceFile, today: date) -> None:
    """Re-check the file's lines against the known invoices in one set-based UPDATE."""
    status = Case(When(invoice_date__gte=today, then=Value(Status.FOUND)), default=Value(Status.PAST))
    known = KnownInvoice.objects.filter(invoice_number=OuterRef("invoice_number")).annotate(status=status)
    InvoiceLine.objects.filter(file=invoice_file).update(
        lookup_status=Coalesce(Subquery(known.values("status")[:1]), Value(Status.NOT_FOUND))
    )


def stored_lookup(invoice_file: InvoiceFile) -> LoadResult:
    """The lookup outcome as stored on the file's lines."""
    lines = InvoiceLine.objects.filter(file=invoice_file)
    counts = lines.aggregate(written=Count("pk"), found=Count("pk", filter=Q(lookup_status=Status.FOUND)))
    result = LoadResult(**counts)
    exceptions = lines.exclude(lookup_status=Status.FOUND).order_by("line_number")
    for invoice_number, status in exceptions.values_list("invoice_number", "lookup_status").iterator(5000):
        (result.not_found if status == Status.NOT_FOUND else result.past).append(invoice_number)
    return result


def _category_ids(categories: dict[str, str]) -> dict[str, int]:
    """Create the categories not seen before (first spelling wins) and return key → id."""
    if not categories:
        return {}
    Category.objects.bulk_create(
        [Category(key=key, name=name) for key, name in categories.items()], ignore_conflicts=True
    )
    return dict(Category.objects.filter(key__in=list(categories)).values_list("key", "id"))


class _ChunkReader:
    """A read-only file object over an iterator of text chunks, as `copy_expert` expects."""

    def __init__(self, chunks: Iterator[str]):
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        # COPY accepts chunks of any length, so one batch per call keeps this simple and bounded.
        return next(self._chunks, "").encode()


def _copy_text(value: str) -> str:
    return value.translate(_COPY_ESCAPES)


def _lookup_exceptions(cursor, text: str, today: date, *, escape: bool) -> dict[str, str]:
    """ONE set-based query: invoice number → past / not_found for the file's candidates."""
    # A superset of the valid rows' numbers: such a number is the line's first 9 characters after
    # leading whitespace, starts with 6 and holds no | or newline, and no earlier match of this
    # pattern can overlap it (matches never cross a | or a newline). Extra candidates cost nothing.
    candidates = set(CANDIDATE_NUMBER.findall(text))
    numbers = "".join(f"{_copy_text(n)}\n" for n in candidates) if escape else "\n".join(candidates) + "\n"
    cursor.execute("CREATE TEMPORARY TABLE ingestion_numbers (invoice_number varchar(9)) ON COMMIT DROP")
    cursor.copy_expert("COPY ingestion_numbers FROM STDIN", _ChunkReader(iter([numbers])))
    known = connection.ops.quote_name(KnownInvoice._meta.db_table)
    cursor.execute(
        f"SELECT n.invoice_number, k.invoice_number IS NULL FROM ingestion_numbers n"  # noqa: S608 (quoted name)
        f" LEFT JOIN {known} k ON k.invoice_number = n.invoice_number"
        f" WHERE k.invoice_number IS NULL OR k.invoice_date < %s",
        [today],
    )
    exceptions = {
        number: Status.NOT_FOUND if missing else Status.PAST for number, missing in cursor.fetchall()
    }
    cursor.execute("DROP TABLE ingestion_numbers")
    return exceptions


def _reserve_line_ids(cursor, count: int) -> int:
    """Reserve `count` consecutive line ids and return the first.

    The table lock keeps other writers (whose ids come from the same sequence) out until commit,
    so the block cannot be handed out twice; it also serialises imports, which is intended.
    """
    table = InvoiceLine._meta.db_table
    cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
        [table, table, count],
    )
    return cursor.fetchone()[0] - count + 1


def _line_chunks(
    rows: Iterator[Row],
    *,
    file_id: int,
    next_id: int,
    exceptions: dict[str, str],
    escape: bool,
    links: BinaryIO,
    result: LoadResult,
) -> Iterator[str]:
    lines: list[str] = []
    refs: list[str] = []
    status_of, found, past, not_found = exceptions.get, Status.FOUND, result.past, result.not_found
    for line_number, number, quantity, description, value, categories in rows:
        status = status_of(number, found)
        if status == found:
            result.found += 1
        else:
            (not_found if status == Status.NOT_FOUND else past).append(number)
        if escape:
            number, description = _copy_text(number), _copy_text(description)
        lines.append(
            f"{next_id}\t{file_id}\t{line_number}\t{number}\t{quantity}\t{description}\t{value}\t{status}\n"
        )
        if categories:
            refs.append(f"{next_id}\t{{{','.join(map(str, categories))}}}\n")
        next_id += 1
        if len(lines) >= BATCH_SIZE:
            links.write("".join(refs).encode())
            refs.clear()
            result.written += len(lines)
            yield "".join(lines)
            lines.clear()
    links.write("".join(refs).encode())
    result.written += len(lines)
    yield "".join(lines)


def _copy_rows(invoice_file: InvoiceFile, parser: RecordParser, text: str, today: date) -> LoadResult:
    quote = connection.ops.quote_name
    result = LoadResult()
    started = time.perf_counter()
    with connection.cursor() as cursor, tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY_BYTES) as links:
        # Most files hold no tab, backslash or CR, and then no field needs escaping for COPY.
        escape = any(special in text for special in "\\\t\r")
        exceptions = _lookup_exceptions(cursor, text, today, escape=escape)
        logger.debug("lookup: %d exceptions after %.2fs", len(exceptions), time.perf_counter() - started)
        first_id = _reserve_line_ids(cursor, count_records(text))
        chunks = _line_chunks(
            parser.rows(text),
            file_id=invoice_file.pk,
            next_id=first_id,
            exceptions=exceptions,
            escape=escape,
            links=links,
            result=result,
        )
        cursor.copy_expert(
            f"COPY {quote(InvoiceLine._meta.db_table)}"
            " (id, file_id, line_number, invoice_number, quantity, description, value, lookup_status) FROM STDIN",
            _ChunkReader(chunks),
        )
        logger.debug("COPY of %d lines done after %.2fs", result.written, time.perf_counter() - started)
        ids = _category_ids(parser.categories)
        if ids:
            # Category ids exist only now, so the links go through a staging table that maps them.
            cursor.execute(
                "CREATE TEMPORARY TABLE ingestion_links (line_id bigint, refs integer[]) ON COMMIT DROP"
            )
            links.seek(0)
            cursor.copy_expert("COPY ingestion_links FROM STDIN", links)
            cursor.execute(
                f"INSERT INTO {quote(InvoiceLineCategory._meta.db_table)} (line_id, category_id)"  # noqa: S608
                " SELECT line_id, (%s::bigint[])[ref] FROM ingestion_links, unnest(refs) AS ref",
                [[ids[key] for key in parser.categories]],
            )
            cursor.execute("DROP TABLE ingestion_links")
        logger.debug("category links done after %.2fs", time.perf_counter() - started)
    return result


def _bulk_create_rows(invoice_file: InvoiceFile, parser: RecordParser, text: str) -> None:
    batch: list[Row] = []
    category_ids: dict[str, int] = {}
    for row in parser.rows(text):
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            _create_batch(invoice_file, parser, batch, category_ids)
            batch = []
    if batch:
        _create_batch(invoice_file, parser, batch, category_ids)


def _create_batch(
    invoice_file: InvoiceFile, parser: RecordParser, rows: list[Row], category_ids: dict[str, int]
) -> None:
    lines = InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                file=invoice_file,
                line_number=row.line,
                invoice_number=row.invoice_number,
                quantity=row.quantity,
                description=row.description,
                value=row.value,
                lookup_status=Status.NOT_FOUND,
            )
            for row in rows
        ]
    )
    new = {key: name for key, name in parser.categories.items() if key not in category_ids}
    category_ids.update(_category_ids(new))
    keys = list(parser.categories)
    InvoiceLineCategory.objects.bulk_create(
        [
            InvoiceLineCategory(line_id=line.pk, category_id=category_ids[keys[ref - 1]])
            for line, row in zip(lines, rows, strict=True)
            for ref in row.categories
        ]
    )
