"""The known-invoice lookup: each line is found, past (the latest known date is before the
business day) or not found in the known-invoices relation, always decided by ONE set-based query."""

import re
from dataclasses import dataclass, field
from datetime import date

from django.db import connection
from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from ingestion.models import InvoiceFile, InvoiceLine, KnownInvoice
from project import db

CANDIDATE_NUMBER = re.compile(r"6[^|\n]{8}")
Status = InvoiceLine.LookupStatus


@dataclass
class LoadResult:
    """Lines written and their lookup outcome; the lists keep line order."""

    written: int = 0
    found: int = 0
    not_found: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)


def lookup_exceptions(cursor, text: str, today: date, *, escape: bool) -> dict[str, str]:
    """ONE set-based query: invoice number → past / not_found for the file's candidates."""
    # A superset of the valid rows' numbers: such a number is the line's first 9 characters after
    # leading whitespace, starts with 6 and holds no | or newline, and no earlier match of this
    # pattern can overlap it (matches never cross a | or a newline). Extra candidates cost nothing.
    candidates = set(CANDIDATE_NUMBER.findall(text))
    numbers = "".join(f"{db.copy_text(n)}\n" for n in candidates) if escape else "\n".join(candidates) + "\n"
    cursor.execute("CREATE TEMPORARY TABLE ingestion_numbers (invoice_number varchar(9)) ON COMMIT DROP")
    db.copy_from("ingestion_numbers", ["invoice_number"], [numbers])
    known = connection.ops.quote_name(KnownInvoice._meta.db_table)
    # The relation may hold several rows for one number (a customer view): the latest date decides,
    # so a number with any current row is found. (An anti-join: a GROUP BY cost 3x this query.)
    cursor.execute(
        f"SELECT n.invoice_number, k.invoice_number IS NULL FROM ingestion_numbers n"  # noqa: S608 (quoted name)
        f" LEFT JOIN {known} k ON k.invoice_number = n.invoice_number"
        f" WHERE (k.invoice_number IS NULL OR k.invoice_date < %s) AND NOT EXISTS"
        f" (SELECT 1 FROM {known} c WHERE c.invoice_number = n.invoice_number AND c.invoice_date >= %s)",
        [today, today],
    )
    exceptions = {
        number: Status.NOT_FOUND if missing else Status.PAST for number, missing in cursor.fetchall()
    }
    cursor.execute("DROP TABLE ingestion_numbers")
    return exceptions


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
