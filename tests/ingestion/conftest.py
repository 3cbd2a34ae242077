"""Builders shared by the ingestion tests."""

from datetime import date, datetime

import pytest
from django.utils import timezone


def file_name(records: int, *, day: date | None = None, at: str = "093000000") -> str:
    """A valid `Letture…` name for a file with `records` records (the name says records - 1)."""
    day = day or timezone.localdate()
    return f"Letture{day:%Y%m%d}{at}_{records - 1}.txt"


def content(*lines: str, newline: str = "\n") -> bytes:
    return newline.join(lines).encode()


@pytest.fixture
def known_invoices(db):
    """known_invoices(found=[...], past=[...]): rows dated far in the future or the past."""
    from ingestion.models import KnownInvoice

    def make(*, found=(), past=()) -> None:
        KnownInvoice.objects.bulk_create(
            [
                KnownInvoice(invoice_number=n, invoice_date=date(2099, 12, 31), customer_name=f"C {n}")
                for n in found
            ]
            + [KnownInvoice(invoice_number=n, invoice_date=date(2000, 1, 1)) for n in past]
        )

    return make


def local_datetime(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))
