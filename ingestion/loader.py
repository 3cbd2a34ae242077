"""Bulk writes of parsed rows and the set-based known-invoice lookup.

PostgreSQL takes the COPY path in `pg_copy` (per-row ORM work would be ~10x slower); other
databases (the SQLite demo) use `bulk_create` in batches, then the lookup as ONE UPDATE.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from ingestion import pg_copy
from ingestion.models import Category, InvoiceFile, InvoiceLine, InvoiceLineCategory, KnownInvoice
from ingestion.parsing import RecordParser, RowTuple
from ingestion.progress import ProgressRecorder

BATCH_SIZE = 5000
Status = InvoiceLine.LookupStatus


@dataclass
class LoadResult:
    """Lines written and their lookup outcome; the lists keep line order."""

    written: int = 0
    found: int = 0
    not_found: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)


def load_rows(
    *, invoice_file: InvoiceFile, parser: RecordParser, text: str, today: date, progress: ProgressRecorder
) -> LoadResult:
    """Write every valid row of `text` as a line of `invoice_file`, with its lookup status."""
    if connection.vendor == "postgresql":
        result = LoadResult()
        pg_copy.copy_rows(
            invoice_file=invoice_file, parser=parser, text=text, today=today, result=result, progress=progress
        )
        return result
    _bulk_create_rows(invoice_file, parser, text, progress)
    refresh_lookup(invoice_file=invoice_file, today=today)
    return stored_lookup(invoice_file)


def refresh_lookup(*, invoice_file: InvoiceFile, today: date) -> None:
    """Re-check the file's lines against the known invoices in one set-based UPDATE."""
    status = Case(When(invoice_date__gte=today, then=Value(Status.FOUND)), default=Value(Status.PAST))
    # Several rows for one number (a customer view) must not make the outcome arbitrary: latest wins.
    known = (
        KnownInvoice.objects.filter(invoice_number=OuterRef("invoice_number"))
        .annotate(status=status)
        .order_by("-invoice_date")
    )
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
