"""Bulk writes of parsed rows with their known-invoice lookup status (`ingestion.lookup`).

PostgreSQL takes the COPY path in `pg_copy` (per-row ORM work would be ~10x slower); other
databases (the SQLite demo) use `bulk_create` in batches, then the lookup as ONE UPDATE.
"""

from datetime import date

from django.db import connection

from ingestion import pg_copy
from ingestion.lookup import LoadResult, refresh_lookup, stored_lookup
from ingestion.models import Category, InvoiceFile, InvoiceLine, InvoiceLineCategory
from ingestion.parsing import RecordParser, RowTuple
from ingestion.progress import ProgressRecorder

BATCH_SIZE = 5000
Status = InvoiceLine.LookupStatus


def load_rows(
    *, invoice_file: InvoiceFile, parser: RecordParser, text: str, today: date, progress: ProgressRecorder
) -> LoadResult:
    """Write every valid row of `text` as a line of `invoice_file`, with its lookup status."""
    if connection.vendor == "postgresql":
        return pg_copy.copy_rows(
            invoice_file=invoice_file, parser=parser, text=text, today=today, progress=progress
        )
    _bulk_create_rows(invoice_file, parser, text, progress)
    refresh_lookup(invoice_file=invoice_file, today=today)
    return stored_lookup(invoice_file)


def _category_ids(categories: dict[str, str]) -> dict[str, int]:
    """Create the categories not seen before (first spelling wins) and return key → id."""
    if not categories:
        return {}
    Category.objects.bulk_create(
        [Category(key=key, name=name) for key, name in categories.items()], ignore_conflicts=True
    )
    return dict(Category.objects.filter(key__in=list(categories)).values_list("key", "id"))


def _bulk_create_rows(
    invoice_file: InvoiceFile, parser: RecordParser, text: str, progress: ProgressRecorder
) -> None:
    batch: list[RowTuple] = []
    category_ids: dict[str, int] = {}
    for row in parser.rows(text):
        batch.append(row)
        if len(batch) >= BATCH_SIZE or row[0] >= progress.next_at:
            _create_batch(invoice_file, parser, batch, category_ids)
            progress.update(row[0])
            batch = []
    if batch:
        _create_batch(invoice_file, parser, batch, category_ids)


def _create_batch(
    invoice_file: InvoiceFile, parser: RecordParser, rows: list[RowTuple], category_ids: dict[str, int]
) -> None:
    lines = InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                file=invoice_file,
                line_number=line_number,
                invoice_number=number,
                quantity=quantity,
                description=description,
                value=value,
                lookup_status=Status.NOT_FOUND,
            )
            for line_number, number, quantity, description, value, _ in rows
        ]
    )
    new = {key: name for key, name in parser.categories.items() if key not in category_ids}
    category_ids.update(_category_ids(new))
    keys = list(parser.categories)
    InvoiceLineCategory.objects.bulk_create(
        [
            InvoiceLineCategory(line_id=line.pk, category_id=category_ids[keys[ref - 1]])
            for line, (*_, refs) in zip(lines, rows, strict=True)
            for ref in refs
        ]
    )
