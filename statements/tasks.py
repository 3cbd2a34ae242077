"""django-q2 entry points of the statements app: one-line calls into `statements.pipeline`."""

from project.schedules import ScheduleSpec
from statements import pipeline, services

SCHEDULES = [
    # Mark-paid enqueues the remittances itself; this catches a broker that was down then.
    ScheduleSpec(name="royalties-send-remittances", func="statements.tasks.send_remittances", minutes=10),
]


def clean_salesfile(sales_file_id: int) -> str:
    return pipeline.clean_task(sales_file_id)


def import_salesfile(sales_file_id: int) -> str:
    return pipeline.import_task(sales_file_id)


def keep_track_sums(sales_file_id: int) -> bool:
    """Queued once a file is PROCESSED, so that the first royalty draft finds its sums kept."""
    return services.keep_track_sums([sales_file_id])


def build_royalty_archive(archive_id: int) -> str:
    from statements.royalties import services

    return services.build_archive(archive_id=archive_id).status


def store_invoice_document(invoice_id: int) -> str:
    from statements.royalties import invoices
    from statements.royalties.models import SelfBillingInvoice

    invoice = SelfBillingInvoice.objects.get(pk=invoice_id)
    invoices.store_document(invoice)
    return invoice.storage_key


def send_remittances(batch_id: int | None = None) -> int:
    from statements.royalties import payments

    return payments.send_remittances(batch_id)
