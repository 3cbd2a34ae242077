"""Builders for the sessions tests: a day's imported file, known invoices, the receiver's log."""

import csv
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from sessions_app.models import Session

FUTURE = date(2099, 12, 31)
PAST = date(2000, 1, 1)


def invoice_file_name(records: int, *, day: date | None = None, at: str = "093000000") -> str:
    """A valid `Letture…` name for `records` records (the name says one less)."""
    day = day or timezone.localdate()
    return f"Letture{day:%Y%m%d}{at}_{records - 1}.txt"


def invoice_content(numbers: list[str]) -> bytes:
    """One `number|quantity|description|value` record per invoice, no final newline (as the customer)."""
    return "\n".join(f"{n}|{i % 5 + 1}|Toys, Garden|{i}.50" for i, n in enumerate(numbers, 1)).encode()


def numbers(count: int, start: int = 1) -> list[str]:
    return [f"6{n:08d}" for n in range(start, start + count)]


@pytest.fixture(autouse=True)
def _sessions_settings(settings, tmp_path):
    """Never reach a demo server by accident; fast log polling; a log folder per test."""
    log_dir = tmp_path / "remote-log"
    log_dir.mkdir()
    settings.SESSIONS_FTP_URL = "ftp://nobody:nothing@127.0.0.1:9/outgoing"  # discard port: refused
    settings.SESSIONS_FTP_TIMEOUT = 5
    settings.SESSIONS_LOG_FS_URL = f"osfs://{log_dir}"
    settings.SESSIONS_LOG_PATH = "upload.log"
    settings.SESSIONS_LOG_POLL_INTERVAL = 0.05
    settings.SESSIONS_LOG_TIMEOUT = 5
    settings.SESSIONS_RESULT_RECIPIENTS = ["warehouse@example.test"]
    settings.SESSIONS_CSV_PREFIX = "shipments"
    settings.SESSIONS_BATCH_SIZE = 2


@pytest.fixture
def known_invoices(db):
    """known_invoices(found=[...], past=[...]): invoices dated far in the future or the past."""
    from ingestion.models import KnownInvoice

    def make(*, found=(), past=()) -> None:
        KnownInvoice.objects.bulk_create(
            [
                KnownInvoice(
                    invoice_number=n,
                    invoice_date=FUTURE,
                    customer_code=f"C{n[-4:]}",
                    customer_name=f'Customer; "{n}"',
                    address="Via Roma 1\nScala B",
                    postcode="00100",
                    city="Roma",
                    province="RM",
                    country="IT",
                    weight_kg="1.250",
                    parcels=2,
                )
                for n in found
            ]
            + [KnownInvoice(invoice_number=n, invoice_date=PAST) for n in past]
        )

    # The relation is unmanaged, so transactional tests' flush leaves its rows behind.
    KnownInvoice.objects.all().delete()
    yield make
    KnownInvoice.objects.all().delete()


@pytest.fixture
def import_day_file(db):
    """import_day_file(numbers) → the InvoiceFile imported for today through ingestion."""
    from ingestion.services import ingest_bytes

    def make(invoice_numbers: list[str], *, day: date | None = None, at: str = "093000000"):
        name = invoice_file_name(len(invoice_numbers), day=day, at=at)
        report = ingest_bytes(name=name, content=invoice_content(invoice_numbers), source="ftp")
        assert report.status == "imported", report.as_json()
        return report.file

    return make


@pytest.fixture
def eligible_day(known_invoices, import_day_file):
    """Today's file: 5 lines, 3 with known current invoices, 1 unknown, 1 dated in the past."""
    found = numbers(3)
    known_invoices(found=found, past=["600000005"])
    return import_day_file([*found, "600000004", "600000005"])


class Receiver:
    """Plays the customer's receiver: reads each CSV landing on the outbound FTP server and appends
    `READ <name> records=<n>` to its log on the SSH server (n is off by `missing` when asked to)."""

    def __init__(self, folder: Path, log_path: Path):
        self.folder = folder
        self.log_path = log_path
        self.missing = 0
        self.active = True
        self.seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        with self.log_path.open("a") as handle:
            handle.write(line + "\n")

    def confirm(self, csv_name: str, records: int) -> None:
        self.write(f"2026-11-23 10:00:00 READ {csv_name} records={records}")

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            if not self.active:
                continue
            for path in sorted(self.folder.glob("*.csv")):
                if path.name in self.seen:
                    continue
                self.seen.append(path.name)
                with path.open(newline="", encoding="utf-8") as handle:
                    rows = sum(1 for _ in csv.reader(handle, delimiter=";")) - 1
                self.confirm(path.name, rows - self.missing)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver(settings, outbound_ftp, ssh_server) -> Iterator[Receiver]:
    """A receiver reading the outbound FTP folder and writing its log on a real sshd."""
    settings.SESSIONS_LOG_FS_URL = ssh_server.fs_url()
    receiver = Receiver(outbound_ftp.folder, ssh_server.home / settings.SESSIONS_LOG_PATH)
    yield receiver
    receiver.close()


def expected_csv_name(session: Session) -> str:
    return f"shipments_{session.day:%Y%m%d}_{session.pk}.csv"


@pytest.fixture
def operator_client(client, make_user):
    client.force_login(make_user("olga", groups=["operators"]))
    return client
