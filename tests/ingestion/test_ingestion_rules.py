"""Ingestion rules through the poller, against a real FTP server and PostgreSQL: copies under a new
name, late files, values with too many decimals, closed days, and the record of each poll."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from ingestion import selectors, services
from ingestion.models import FtpPoll, InvoiceFile, InvoiceLine
from ingestion.polling import poll_inbound
from project.models import OutboundEmail
from tests.ingestion.conftest import content, file_name, local_datetime

pytestmark = pytest.mark.django_db

DATA = content("600000001|2|Toys|12.50", "600000002|1|Books|3.00")


def drop(server, name: str, data: bytes = DATA) -> None:
    (server.folder / name).write_bytes(data)


def remote_names(server) -> list[str]:
    return sorted(path.name for path in server.folder.iterdir())


def test_same_bytes_under_a_new_name_are_recorded_and_the_day_counts_as_received(inbound_ftp, settings):
    yesterday = timezone.localdate() - timedelta(days=1)
    original = services.ingest_bytes(name=file_name(2, day=yesterday), content=DATA, source="ftp").file
    copy_name = file_name(2)
    drop(inbound_ftp, copy_name)
    settings.INGESTION_NO_FILE_ALERT_AFTER = "00:00"

    result = poll_inbound()

    assert result.processed == {copy_name: "duplicate"}
    assert remote_names(inbound_ftp) == []
    copy = InvoiceFile.objects.get(name=copy_name)
    assert copy.status == InvoiceFile.Status.DUPLICATE and copy.duplicate_of == original
    assert copy.business_date == timezone.localdate()
    assert f"same content as {original.name}" in copy.reason
    assert not result.alert_sent and not OutboundEmail.objects.filter(kind="ingestion/no_file").exists()
    assert selectors.imported_file_for_day(timezone.localdate()) == original
    assert InvoiceLine.objects.count() == 2


def test_a_file_of_an_earlier_day_is_imported_late_with_an_alert(inbound_ftp):
    friday = timezone.localdate() - timedelta(days=3)
    name = file_name(2, day=friday, at="203000000")
    drop(inbound_ftp, name)

    result = poll_inbound()

    assert result.processed == {name: "imported"}
    assert remote_names(inbound_ftp) == []
    invoice_file = InvoiceFile.objects.get()
    assert invoice_file.late and invoice_file.business_date == friday
    assert invoice_file.imported_count == 2
    alert = OutboundEmail.objects.get(kind="ingestion/late")
    assert name in alert.subject and f"{friday:%Y-%m-%d}" in alert.subject
    assert selectors.imported_file_for_day(friday) == invoice_file
    assert selectors.imported_file_for_day(timezone.localdate()) is None


def test_values_with_more_than_two_decimals_are_invalid_lines_with_a_reason(inbound_ftp):
    name = file_name(3)
    drop(
        inbound_ftp, name, content("600000001|2|Toys|1.005", "600000002|1|Books|3.00", "600000003|1|x|2.500")
    )

    poll_inbound()

    invoice_file = InvoiceFile.objects.get()
    assert invoice_file.invalid_lines == [
        {
            "line": 1,
            "reason": "value '1.005' has more than two decimals",
            "code": "value_decimals",
            "params": {"value": "'1.005'"},
        }
    ]
    assert sorted(InvoiceLine.objects.values_list("value", flat=True)) == [2.5, 3]


def test_a_file_of_a_closed_day_is_archived_and_alerted_not_imported(inbound_ftp):
    services.close_day(day=timezone.localdate())
    name = file_name(2)
    drop(inbound_ftp, name)

    result = poll_inbound()

    assert result.processed == {name: "closed_day"}
    assert remote_names(inbound_ftp) == []
    invoice_file = InvoiceFile.objects.get()
    assert invoice_file.status == InvoiceFile.Status.CLOSED_DAY and "is closed" in invoice_file.reason
    with default_storage.open(invoice_file.archive_path) as handle:
        assert handle.read() == DATA
    assert not InvoiceLine.objects.exists()
    assert OutboundEmail.objects.filter(kind="ingestion/closed_day").count() == 1
    assert not OutboundEmail.objects.filter(kind="ingestion/summary").exists()
    assert selectors.imported_file_for_day(timezone.localdate()) is None


def test_every_poll_is_recorded_with_its_outcome(inbound_ftp, settings):
    poll_inbound(now=local_datetime(2026, 11, 23, 9, 0))
    settings.INGESTION_FTP_URL = "ftp://nobody:nothing@127.0.0.1:9/incoming"  # discard port: refused
    poll_inbound(now=local_datetime(2026, 11, 23, 9, 30))

    failed, succeeded = FtpPoll.objects.all()
    assert succeeded.succeeded and not failed.succeeded
    assert "server error" in failed.summary
    assert selectors.last_poll(succeeded=True) == succeeded
    assert selectors.last_poll() == failed
