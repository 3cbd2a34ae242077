"""Read operations of the ingestion app."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.db.models import Min

from ingestion.models import Category, ClosedDay, FtpPoll, InvoiceFile, InvoiceLine, KnownInvoice
from project.integrations.ftp import FtpEndpoint

SHIPMENT_COLUMNS = [
    "invoice_number",
    "customer_code",
    "customer_name",
    "address",
    "postcode",
    "city",
    "province",
    "country",
    "weight_kg",
    "parcels",
    "quantity",
    "value",
]


@dataclass
class ShipmentRows:
    rows: list[dict] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)


def imported_file_for_day(day: date) -> InvoiceFile | None:
    """The latest imported file whose business date is `day`; for a day that received only a copy
    of an earlier file (same bytes, new name), that earlier file when it was imported."""
    imported = InvoiceFile.Status.IMPORTED
    files = InvoiceFile.objects.select_related("duplicate_of").order_by("-created_at", "-pk")
    own = files.filter(business_date=day, status=imported).first()
    if own is not None:
        return own
    copy = files.filter(business_date=day, duplicate_of__status=imported).first()
    return copy.duplicate_of if copy is not None else None


def day_is_closed(day: date) -> bool:
    """Whether the day's session was closed (files of that day are archived, never imported)."""
    return ClosedDay.objects.filter(day=day).exists()


def file_for_day_exists(day: date) -> bool:
    """Whether any file (imported, rejected, duplicate, …) arrived for `day`."""
    return InvoiceFile.objects.filter(business_date=day).exists()


def last_poll(*, succeeded: bool | None = None) -> FtpPoll | None:
    """The latest check of the inbound FTP server (only successful ones with `succeeded=True`)."""
    polls = FtpPoll.objects.all() if succeeded is None else FtpPoll.objects.filter(succeeded=succeeded)
    return polls.first()


def next_poll_at() -> datetime | None:
    """When the poller's schedule runs next (None when no schedule exists: `setup_schedules` not run)."""
    from django_q.models import Schedule

    schedules = Schedule.objects.filter(func="ingestion.tasks.poll_ftp", next_run__isnull=False)
    return schedules.aggregate(next_run=Min("next_run"))["next_run"]


def file_category_keys(invoice_file: InvoiceFile) -> list[str]:
    """Sorted normalised keys of the categories used by the file's lines."""
    return sorted(Category.objects.filter(lines__file=invoice_file).distinct().values_list("key", flat=True))


def shipment_rows(*, invoice_file: InvoiceFile, today: date) -> ShipmentRows:
    """Re-check the file's lines against the known invoices NOW, in one joined query."""
    quote = connection.ops.quote_name
    customer = [quote(name) for name in SHIPMENT_COLUMNS[1:-2]]
    lines = quote(InvoiceLine._meta.db_table)
    # The relation may hold several rows for one number (a customer view): exactly one is picked,
    # the latest invoice date first, then the other columns, so the choice is deterministic.
    known = (
        f"SELECT invoice_number, invoice_date, {', '.join(customer)}, ROW_NUMBER() OVER ("  # noqa: S608 (quoted identifiers)
        f"PARTITION BY invoice_number ORDER BY invoice_date DESC, {', '.join(customer)}) AS pick"
        f" FROM {quote(KnownInvoice._meta.db_table)}"
        f" WHERE invoice_number IN (SELECT invoice_number FROM {lines} WHERE file_id = %s)"
    )
    sql = (
        f"SELECT l.invoice_number, {', '.join(f'k.{name}' for name in customer)}, l.quantity, l.value,"  # noqa: S608
        f" k.invoice_date, k.invoice_number IS NOT NULL"
        f" FROM {lines} l LEFT JOIN ({known}) k ON k.invoice_number = l.invoice_number AND k.pick = 1"
        f" WHERE l.file_id = %s ORDER BY l.line_number"
    )
    result = ShipmentRows()
    with connection.cursor() as cursor:
        cursor.execute(sql, [invoice_file.pk, invoice_file.pk])
        for record in cursor:
            *values, invoice_date, present = record
            row = dict(zip(SHIPMENT_COLUMNS, values, strict=True))
            if not present:
                result.not_found.append(row["invoice_number"])
            elif invoice_date < today:
                result.past.append(row["invoice_number"])
            else:
                result.rows.append(row)
    return result


def inbound_host() -> str:
    """Host and port of the inbound FTP server, for messages (never the credentials)."""
    endpoint = FtpEndpoint.from_url(settings.INGESTION_FTP_URL)
    return f"{endpoint.host}:{endpoint.port}"
