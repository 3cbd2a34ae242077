"""Bulk writes of parsed rows and the set-based known-invoice lookup.

On PostgreSQL the rows stream through `COPY` into a temporary staging table, then ONE
`INSERT … SELECT … LEFT JOIN <known invoices>` writes the lines with their lookup status and one
more statement writes the category links; per-row ORM work would be ~10x slower. Other databases
(the SQLite demo) use `bulk_create` in batches followed by the same lookup as an UPDATE.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from ingestion.models import Category, InvoiceFile, InvoiceLine, InvoiceLineCategory, KnownInvoice
from ingestion.parsing import RecordParser, Row

BATCH_SIZE = 5000
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class LookupCounts:
    found: int
    past: int
    not_found: int


def load_rows(*, invoice_file: InvoiceFile, parser: RecordParser, text: str, today: date) -> int:
    """Write every valid row of `text` as a line of `invoice_file`; returns how many were written."""
    if connection.vendor == "postgresql":
        return _copy_rows(invoice_file, parser, text, today)
    written = _bulk_create_rows(invoice_file, parser, text)
    refresh_lookup(invoice_file=invoice_file, today=today)
    return written


def refresh_lookup(*, invoice_file: InvoiceFile, today: date) -> None:
    """Re-check the file's lines against the known invoices in one set-based UPDATE."""
    status = Case(
        When(invoice_date__gte=today, then=Value(InvoiceLine.LookupStatus.FOUND)),
        default=Value(InvoiceLine.LookupStatus.PAST),
    )
    known = KnownInvoice.objects.filter(invoice_number=OuterRef("invoice_number")).annotate(status=status)
    InvoiceLine.objects.filter(file=invoice_file).update(
        lookup_status=Coalesce(
            Subquery(known.values("status")[:1]), Value(InvoiceLine.LookupStatus.NOT_FOUND)
        )
    )


def lookup_counts(invoice_file: InvoiceFile) -> LookupCounts:
    statuses = InvoiceLine.LookupStatus
    counts = InvoiceLine.objects.filter(file=invoice_file).aggregate(
        found=Count("pk", filter=Q(lookup_status=statuses.FOUND)),
        past=Count("pk", filter=Q(lookup_status=statuses.PAST)),
        not_found=Count("pk", filter=Q(lookup_status=statuses.NOT_FOUND)),
    )
    return LookupCounts(**counts)


def _category_ids(categories: dict[str, str]) -> dict[str, int]:
    """Create the categories not seen before (first spelling wins) and return key → id."""
    if not categories:
        return {}
    Category.objects.bulk_create(
        [Category(key=key, name=name) for key, name in categories.items()], ignore_conflicts=True
    )
    return dict(Category.objects.filter(key__in=list(categories)).values_list("key", "id"))


class _CopyStream:
    """A read-only file object over an iterator of text chunks, as `copy_expert` expects."""

    def __init__(self, chunks: Iterator[str]):
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:
        # COPY accepts chunks of any length, so one batch per call keeps this simple and bounded.
        return next(self._chunks, "").encode()


def _copy_chunks(rows: Iterable[Row]) -> Iterator[str]:
    batch: list[str] = []
    for row in rows:
        description = row.description.translate(_COPY_ESCAPES)
        invoice_number = row.invoice_number.translate(_COPY_ESCAPES)
        refs = ",".join(map(str, row.categories))
        batch.append(
            f"{row.line}\t{invoice_number}\t{row.quantity}\t{description}\t{row.value}\t{{{refs}}}\n"
        )
        if len(batch) >= BATCH_SIZE:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


def _copy_rows(invoice_file: InvoiceFile, parser: RecordParser, text: str, today: date) -> int:
    quote = connection.ops.quote_name
    line_table = quote(InvoiceLine._meta.db_table)
    link_table = quote(InvoiceLineCategory._meta.db_table)
    known_table = quote(KnownInvoice._meta.db_table)
    with connection.cursor() as cursor:
        # The staging ids come from the lines' own sequence, so the links need no join back.
        cursor.execute("DROP TABLE IF EXISTS ingestion_staging")
        cursor.execute(
            f"CREATE TEMPORARY TABLE ingestion_staging ("
            f" id bigint DEFAULT nextval(pg_get_serial_sequence('{InvoiceLine._meta.db_table}', 'id')),"
            f" line_number integer, invoice_number varchar(9), quantity integer, description text,"
            f" value numeric(14, 2), refs integer[]) ON COMMIT DROP"
        )
        cursor.copy_expert(
            "COPY ingestion_staging (line_number, invoice_number, quantity, description, value, refs)"
            " FROM STDIN",
            _CopyStream(_copy_chunks(parser.rows(text))),
        )
        ids = _category_ids(parser.categories)
        cursor.execute(
            f"INSERT INTO {line_table}"  # noqa: S608 (quoted model tables; values are bound)
            f" (id, file_id, line_number, invoice_number, quantity, description, value, lookup_status)"
            f" SELECT s.id, %s, s.line_number, s.invoice_number, s.quantity, s.description, s.value,"
            f"  CASE WHEN k.invoice_date IS NULL THEN 'not_found'"
            f"   WHEN k.invoice_date >= %s THEN 'found' ELSE 'past' END"
            f" FROM ingestion_staging s LEFT JOIN {known_table} k ON k.invoice_number = s.invoice_number",
            [invoice_file.pk, today],
        )
        written = cursor.rowcount
        if ids:
            cursor.execute(
                f"INSERT INTO {link_table} (line_id, category_id)"  # noqa: S608
                f" SELECT s.id, (%s::bigint[])[r.ref] FROM ingestion_staging s, unnest(s.refs) AS r(ref)",
                [[ids[key] for key in parser.categories]],
            )
        cursor.execute("DROP TABLE ingestion_staging")
    return written


def _bulk_create_rows(invoice_file: InvoiceFile, parser: RecordParser, text: str) -> int:
    written = 0
    batch: list[Row] = []
    for row in parser.rows(text):
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            written += _create_batch(invoice_file, parser, batch)
            batch = []
    if batch:
        written += _create_batch(invoice_file, parser, batch)
    return written


def _create_batch(invoice_file: InvoiceFile, parser: RecordParser, rows: list[Row]) -> int:
    lines = InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                file=invoice_file,
                line_number=row.line,
                invoice_number=row.invoice_number,
                quantity=row.quantity,
                description=row.description,
                value=row.value,
                lookup_status=InvoiceLine.LookupStatus.NOT_FOUND,
            )
            for row in rows
        ]
    )
    ids = _category_ids(parser.categories)
    keys = list(parser.categories)
    InvoiceLineCategory.objects.bulk_create(
        [
            InvoiceLineCategory(line_id=line.pk, category_id=ids[keys[ref - 1]])
            for line, row in zip(lines, rows, strict=True)
            for ref in row.categories
        ]
    )
    return len(lines)
