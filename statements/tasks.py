"""django-q2 entry points of the statements app: thin wrappers over the pipeline services."""

import logging

from django.conf import settings

from statements import pipeline, services
from statements.models import SalesFile, SalesFileStatus

logger = logging.getLogger(__name__)

SCHEDULES: list = []


def clean_salesfile(sales_file_id: int) -> str:
    """Clean an UPLOADED file, then queue its import; with STATEMENTS_EXTERNAL_CLEANING the file
    waits in CLEANING for the external module's `cleaned` webhook instead."""
    try:
        if settings.STATEMENTS_EXTERNAL_CLEANING:
            return services.mark_cleaning(SalesFile.objects.get(pk=sales_file_id)).status
        sales_file = pipeline.clean_sales_file(sales_file_id)
    except services.InvalidTransition as exc:
        # A duplicate task (the file was queued twice): the first one owns the file.
        logger.info("skipping duplicate cleaning task: %s", exc)
        return str(exc)
    if sales_file.status == SalesFileStatus.CLEANED:
        services.queue_import(sales_file)
    return sales_file.status


def import_salesfile(sales_file_id: int) -> str:
    try:
        return pipeline.import_sales_file(sales_file_id).status
    except services.InvalidTransition as exc:
        logger.info("skipping duplicate import task: %s", exc)
        return str(exc)
