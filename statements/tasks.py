"""django-q2 entry points of the statements app: thin wrappers over the pipeline services."""

from django.conf import settings

from statements import pipeline, services
from statements.models import SalesFile, SalesFileStatus

SCHEDULES: list = []


def clean_salesfile(sales_file_id: int) -> str:
    """Clean an UPLOADED file, then queue its import; with STATEMENTS_EXTERNAL_CLEANING the file
    waits in CLEANING for the external module's `cleaned` webhook instead."""
    if settings.STATEMENTS_EXTERNAL_CLEANING:
        return services.mark_cleaning(SalesFile.objects.get(pk=sales_file_id)).status
    sales_file = pipeline.clean_sales_file(sales_file_id)
    if sales_file.status == SalesFileStatus.CLEANED:
        services.queue_import(sales_file)
    return sales_file.status


def import_salesfile(sales_file_id: int) -> str:
    return pipeline.import_sales_file(sales_file_id).status
