"""Write operations of the ingestion app: import a file, reprocess it, send the alerts."""

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from ingestion import pg_copy, selectors
from ingestion.lookup import LoadResult, refresh_lookup, stored_lookup
from ingestion.models import ClosedDay, FtpPoll, InvoiceFile, InvoiceLine, InvoiceLineCategory, NoFileAlert
from ingestion.parsing import InvalidFileName, RecordParser, count_records, decode, is_binary, parse_file_name
from ingestion.progress import ProgressCallback, ProgressRecorder
from ingestion.texts import CATALOGUE, lazy_line_reason, text
from project import storage
from project.audit import record_action
from project.mail import queue_email

__all__ = [
    "IngestReport",
    "InvalidFileName",
    "close_day",
    "delete_invoice_file",
    "ingest_bytes",
    "record_poll",
    "reopen_day",
    "reprocess_file",
    "request_poll",
    "send_no_file_alert",
]

logger = logging.getLogger(__name__)
# Emails list at most this many invoice numbers per section; the admin has the full list.
EMAIL_LIST_LIMIT = 500


@dataclass
class IngestReport:
    """Outcome of `ingest_bytes`; `as_json()` is what `ingest_file --json` prints."""

    status: str  # "imported" | "duplicate" | "rejected" | "closed_day"
    file: InvoiceFile | None
    name: str
    declared_records: int
    records: int
    imported: int = 0
    ignored: int = 0
    invalid: list[dict] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "file": self.name,
            "status": self.status,
            "declared_records": self.declared_records,
            "records": self.records,
            "imported": self.imported,
            "ignored": self.ignored,
            "invalid": self.invalid,
            "not_found": self.not_found,
            "past": self.past,
            "categories": self.categories,
        }


def archive_path(*, name: str, business_date: date) -> str:
    return f"ingestion/archive/{business_date.isoformat()}/{name}"


def archive(*, name: str, business_date: date, content: bytes) -> str:
    """Store the received bytes under their archive key, replacing a copy left by an attempt that
    did not commit. Called only by the import holding the file's name (see `ingest_bytes`)."""
    path = archive_path(name=name, business_date=business_date)
    storage.save(path, content)
    return path


def ingest_bytes(
    *, name: str, content: bytes, source: str, on_progress: ProgressCallback | None = None
) -> IngestReport:
    """Archive, parse, validate and store one invoice file, all or nothing; then queue the emails.

    Every new name is recorded: bytes already received under another name as a `duplicate` of that
    file, a file of a closed day as `closed_day` (archived, alerted, not imported). A file of an
    earlier day is imported as `late`, with an alert. Raises InvalidFileName for a name that is
    not `Letture<YYYYMMDDHHMMSSmmm>_<N>.txt`; `on_progress(name, processed, total)` is called each
    time the import's progress is recorded.
    """
    if source not in InvoiceFile.Source.values:
        raise ValueError(f"source must be one of {InvoiceFile.Source.values}, got {source!r}")
    file_name = parse_file_name(name)
    sha256 = hashlib.sha256(content).hexdigest()
    text = decode(content)
    records = count_records(text)
    already = InvoiceFile.objects.filter(name=name).first()
    if already is not None:
        return _report(already, status="duplicate")
    day = file_name.business_date
    invoice_file = InvoiceFile(
        name=name,
        sha256=sha256,
        source=source,
        status=InvoiceFile.Status.IMPORTED,
        business_date=day,
        late=day < timezone.localdate(),
        size=len(content),
        currency=settings.INGESTION_CURRENCY,
        declared_records=file_name.declared_records,
        records=records,
        archive_path=archive_path(name=name, business_date=day),
    )
    progress = ProgressRecorder(name=name, total=records, on_progress=on_progress)
    try:
        with transaction.atomic():
            # The unique name (and, unless a duplicate, SHA-256) is ours from this INSERT until
            # commit: a concurrent import of the same file waits here and then fails, so only the
            # winner writes the archive.
            _classify(invoice_file, binary=is_binary(text))
            invoice_file.save()
            if invoice_file.status == InvoiceFile.Status.DUPLICATE:
                logger.warning("invoice file %s recorded as a duplicate: %s", name, invoice_file.reason)
                return _report(invoice_file)
            archive(name=name, business_date=day, content=content)
            if invoice_file.status == InvoiceFile.Status.CLOSED_DAY:
                return _refuse_closed_day(invoice_file)
            if invoice_file.status == InvoiceFile.Status.REJECTED:
                return _reject(invoice_file)
            progress.start()
            report = _import(invoice_file, text, progress)
            if invoice_file.late:
                _alert_late(invoice_file)
            return report
    except IntegrityError:
        # Another worker stored the same name or bytes between our checks and our insert.
        existing = InvoiceFile.objects.filter(name=name).first()
        if existing is not None:
            return _report(existing, status="duplicate")
        if not InvoiceFile.objects.filter(sha256=sha256).exists():
            raise
    finally:
        progress.close()
    # The same bytes under another name won the race: record this name as its duplicate.
    return ingest_bytes(name=name, content=content, source=source, on_progress=on_progress)


def _classify(invoice_file: InvoiceFile, *, binary: bool) -> None:
    """Set the status and reason of a file about to be recorded (`imported` until proven otherwise);
    `binary`: its bytes are not text (see parsing.is_binary)."""
    original = (
        InvoiceFile.objects.filter(sha256=invoice_file.sha256)
        .exclude(status=InvoiceFile.Status.DUPLICATE)
        .first()
    )
    day = invoice_file.business_date.isoformat()
    if original is not None:
        invoice_file.status = InvoiceFile.Status.DUPLICATE
        invoice_file.duplicate_of = original
        invoice_file.archive_path = original.archive_path  # the same bytes: one archived copy
        received = timezone.localtime(original.created_at)
        reason = text("duplicate", original=original.name, received=f"{received:%Y-%m-%d %H:%M}")
    elif ClosedDay.objects.filter(day=invoice_file.business_date).exists():
        invoice_file.status = InvoiceFile.Status.CLOSED_DAY
        reason = text("closed_day", day=day)
    elif binary:
        invoice_file.status = InvoiceFile.Status.REJECTED
        reason = text("binary")
    elif invoice_file.records != invoice_file.declared_records:
        invoice_file.status = InvoiceFile.Status.REJECTED
        declared = invoice_file.declared_records
        reason = text("record_count", records=invoice_file.records, declared=declared - 1, expected=declared)
    else:
        return
    invoice_file.reason = CATALOGUE.english(reason)
    invoice_file.reason_code, invoice_file.reason_params = reason.code, reason.params


def _report(invoice_file: InvoiceFile, *, status: str = "") -> IngestReport:
    """The report of a file recorded without an import: its own status, or `duplicate` for a file
    received before this call (same name, or same bytes stored by a concurrent import)."""
    return IngestReport(
        status=status or invoice_file.status,
        file=invoice_file,
        name=invoice_file.name,
        declared_records=invoice_file.declared_records,
        records=invoice_file.records,
    )


def _refuse_closed_day(invoice_file: InvoiceFile) -> IngestReport:
    logger.warning("invoice file %s not imported: %s", invoice_file.name, invoice_file.reason)
    queue_email(
        template="ingestion/closed_day",
        context={"file": invoice_file},
        to=settings.INGESTION_ALERT_RECIPIENTS,
    )
    return _report(invoice_file)


def _alert_late(invoice_file: InvoiceFile) -> None:
    logger.warning("invoice file %s of %s arrived late", invoice_file.name, invoice_file.business_date)
    queue_email(
        template="ingestion/late", context={"file": invoice_file}, to=settings.INGESTION_ALERT_RECIPIENTS
    )


def _reject(invoice_file: InvoiceFile) -> IngestReport:
    logger.warning("invoice file %s rejected: %s", invoice_file.name, invoice_file.reason)
    queue_email(
        template="ingestion/rejected",
        context={"file": invoice_file},
        to=settings.INGESTION_ALERT_RECIPIENTS,
    )
    return _report(invoice_file)


def _import(invoice_file: InvoiceFile, text: str, progress: ProgressRecorder) -> IngestReport:
    parser = RecordParser()
    today = timezone.localdate()
    lookup = pg_copy.copy_rows(
        invoice_file=invoice_file, parser=parser, text=text, today=today, progress=progress
    )
    progress.finish()
    invoice_file.imported_count = lookup.written
    invoice_file.ignored_count = parser.ignored
    invoice_file.invalid_count = len(parser.problems)
    invoice_file.invalid_lines = [problem.as_dict() for problem in parser.problems]
    invoice_file.imported_at = timezone.now()
    logger.info(
        "invoice file %s imported: %s lines, %s ignored, %s invalid",
        invoice_file.name,
        invoice_file.imported_count,
        invoice_file.ignored_count,
        invoice_file.invalid_count,
    )
    # The parser registers only categories of imported rows, so its keys are the file's categories.
    return _record_lookup(invoice_file, lookup, categories=sorted(parser.categories), today=today)


def _record_lookup(
    invoice_file: InvoiceFile, lookup: LoadResult, *, categories: list[str], today: date
) -> IngestReport:
    """Store the lookup counts on the file, queue the summary email and build the report."""
    invoice_file.found_count = lookup.found
    invoice_file.past_count = len(lookup.past)
    invoice_file.not_found_count = len(lookup.not_found)
    invoice_file.checked_at = timezone.now()
    invoice_file.save()
    queue_email(
        template="ingestion/summary",
        context={
            "file": invoice_file,
            "today": today,
            "not_found": lookup.not_found[:EMAIL_LIST_LIMIT],
            "past": lookup.past[:EMAIL_LIST_LIMIT],
            "invalid": [
                {"line": item["line"], "reason": lazy_line_reason(item)}
                for item in invoice_file.invalid_lines[:EMAIL_LIST_LIMIT]
            ],
            "limit": EMAIL_LIST_LIMIT,
        },
        to=settings.INGESTION_SUMMARY_RECIPIENTS,
    )
    return IngestReport(
        status="imported",
        file=invoice_file,
        name=invoice_file.name,
        declared_records=invoice_file.declared_records,
        records=invoice_file.records,
        imported=invoice_file.imported_count,
        ignored=invoice_file.ignored_count,
        invalid=invoice_file.invalid_lines,
        not_found=lookup.not_found,
        past=lookup.past,
        categories=categories,
    )


@transaction.atomic
def reprocess_file(*, invoice_file: InvoiceFile) -> IngestReport:
    """Re-run the known-invoice lookup of an imported file and send its summary email again."""
    if invoice_file.status != InvoiceFile.Status.IMPORTED:
        raise ValueError(
            gettext("%(file)s was rejected (%(reason)s); it has no lines to check")
            % {"file": invoice_file.name, "reason": invoice_file.reason_text}
        )
    today = timezone.localdate()
    refresh_lookup(invoice_file=invoice_file, today=today)
    record_action("ingestion.file_reprocessed", target=invoice_file)
    lookup = stored_lookup(invoice_file)
    return _record_lookup(
        invoice_file, lookup, categories=selectors.file_category_keys(invoice_file), today=today
    )


@transaction.atomic
def delete_invoice_file(*, invoice_file: InvoiceFile) -> None:
    """Delete a file with its lines and links in set-based statements (the ORM's cascade would
    load every line); the archived copy stays, and the same file can then be sent again."""
    InvoiceLineCategory.objects.filter(line__file=invoice_file).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(InvoiceLine._meta.db_table)} WHERE file_id = %s",  # noqa: S608
            [invoice_file.pk],
        )
    invoice_file.delete()


def send_no_file_alert(*, day: date) -> bool:
    """Queue the "no file today" alert unless it was already sent for `day`; True when queued now."""
    with transaction.atomic():
        _, created = NoFileAlert.objects.get_or_create(day=day)
        if created:
            queue_email(
                template="ingestion/no_file",
                context={"day": day, "ftp_host": selectors.inbound_host()},
                to=settings.INGESTION_ALERT_RECIPIENTS,
            )
    return created


def close_day(*, day: date) -> None:
    """From now on, files of `day` are archived and alerted, never imported (its session closed)."""
    ClosedDay.objects.get_or_create(day=day)


def reopen_day(*, day: date) -> None:
    """Files of `day` are imported again (its session was reopened); those refused meanwhile stay
    archived as `closed_day`."""
    ClosedDay.objects.filter(day=day).delete()


# Polls older than this are pruned: the page and /healthz need only the latest ones.
POLL_HISTORY_DAYS = 30


def record_poll(
    *, started_at: datetime, succeeded: bool, summary: str, details: dict | None = None
) -> FtpPoll:
    """Remember one check of the inbound FTP server (shown on the operators' page and in /healthz):
    its English `summary` and the `details` it is rendered from in the reader's language."""
    poll = FtpPoll.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        succeeded=succeeded,
        summary=summary,
        details=details or {},
    )
    FtpPoll.objects.filter(started_at__lt=started_at - timedelta(days=POLL_HISTORY_DAYS)).delete()
    return poll


def request_poll() -> str:
    """Queue one poll of the inbound FTP server for the django-q2 cluster; returns the task id."""
    from django_q.tasks import async_task

    return str(async_task("ingestion.tasks.poll_ftp", task_name="ingestion-poll-ftp-now") or "")
