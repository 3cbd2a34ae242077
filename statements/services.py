"""Write operations of the statements app: runs, sales files and their status machine, rate sets.

Status machine of a sales file (one function per transition, each recorded as a SalesFileEvent):
INITIALIZED → UPLOADED → CLEANING → CLEANED → IMPORTING → PROCESSED, or FAILED (with a reason)
from any step; FAILED and PROCESSED files can be uploaded/processed again.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django_q.tasks import async_task

from project import storage
from statements.models import (
    ExchangeRate,
    RateChange,
    RateException,
    SalesFile,
    SalesFileEvent,
    SalesFileFormat,
    SalesFileSnapshot,
    SalesFileStatus,
    SalesLine,
    StatementRun,
    WebhookEvent,
)
from statements.webhook import WebhookEvent as SignedEvent

S = SalesFileStatus
RESTARTABLE = {S.INITIALIZED, S.UPLOADED, S.FAILED, S.PROCESSED}
IN_PROGRESS = {S.CLEANING, S.CLEANED, S.IMPORTING}
# A PROCESSED file's content is what its lines came from, so it is never replaced.
UPLOADABLE = {S.INITIALIZED, S.UPLOADED, S.FAILED}


class Conflict(Exception):
    """The request is valid but the current state does not allow it (HTTP 409)."""


class InvalidTransition(Conflict):
    """A sales file is not in a status the requested transition starts from."""


# --- runs ---------------------------------------------------------------------------------------


def create_run(
    *,
    name: str,
    currency: str,
    artists: list[str],
    dsps: list[str],
    periods: list[str],
    period_from: str,
    period_to: str,
    sales_file_ids: list[int],
    user: AbstractBaseUser | None,
) -> StatementRun:
    with transaction.atomic():
        run = StatementRun.objects.create(
            name=name,
            currency=currency,
            artists=artists,
            dsps=dsps,
            periods=periods,
            period_from=period_from,
            period_to=period_to,
            created_by=user,
        )
        if sales_file_ids:
            run.sales_files.add(*_existing_files(sales_file_ids))
    return run


def add_sales_file(*, run: StatementRun, sales_file_id: int) -> SalesFile:
    """Relate a sales file to a run (idempotent)."""
    (sales_file,) = _existing_files([sales_file_id])
    run.sales_files.add(sales_file)
    return sales_file


def _existing_files(ids: list[int]) -> list[SalesFile]:
    files = list(SalesFile.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {f.pk for f in files})
    if missing:
        raise LookupError(f"no sales file with id {', '.join(map(str, missing))}")
    return files


def record_report_generated(*, run: StatementRun) -> None:
    """The first report freezes the run's rate sets."""
    StatementRun.objects.filter(pk=run.pk, report_generated_at__isnull=True).update(
        report_generated_at=timezone.now()
    )


# --- rate sets ----------------------------------------------------------------------------------


def replace_rates(*, run: StatementRun, items: list[dict], user: AbstractBaseUser | None) -> None:
    """Replace the run's exchange rates with `items` (already validated), keeping history."""
    with transaction.atomic():
        run = _lock_unreported(run)
        previous = [
            {"currency": r.currency, "period": r.period, "rate": str(r.rate)} for r in run.rates.all()
        ]
        run.rates.all().delete()
        ExchangeRate.objects.bulk_create(
            ExchangeRate(run=run, currency=i["currency"], period=i["period"], rate=i["rate"]) for i in items
        )
        RateChange.objects.create(
            run=run, kind=RateChange.Kind.RATES, items=_jsonable(items), previous=previous, changed_by=user
        )


def replace_exceptions(*, run: StatementRun, items: list[dict], user: AbstractBaseUser | None) -> None:
    """Replace the run's rate exceptions with `items` (already validated), keeping history."""
    file_ids = {i["salesfile"] for i in items if i["salesfile"] is not None}
    with transaction.atomic():
        run = _lock_unreported(run)
        _existing_files(sorted(file_ids))
        previous = [
            {
                "currency": e.currency,
                "rate": str(e.rate),
                "dsp": e.dsp,
                "salesfile": e.sales_file_id,
                "period": e.period,
            }
            for e in run.rate_exceptions.all()
        ]
        run.rate_exceptions.all().delete()
        RateException.objects.bulk_create(
            RateException(
                run=run,
                currency=i["currency"],
                rate=i["rate"],
                dsp=i["dsp"],
                sales_file_id=i["salesfile"],
                period=i["period"],
            )
            for i in items
        )
        RateChange.objects.create(
            run=run,
            kind=RateChange.Kind.EXCEPTIONS,
            items=_jsonable(items),
            previous=previous,
            changed_by=user,
        )


def _lock_unreported(run: StatementRun) -> StatementRun:
    run = StatementRun.objects.select_for_update().get(pk=run.pk)
    if run.report_generated_at is not None:
        raise Conflict(
            f"the rates of run {run.pk} are frozen: a report was generated at "
            f"{timezone.localtime(run.report_generated_at):%Y-%m-%d %H:%M}"
        )
    return run


def _jsonable(items: list[dict]) -> list[dict]:
    return [{**item, "rate": str(item["rate"])} for item in items]


# --- sales files: creation and upload ------------------------------------------------------------


def create_sales_file(*, name: str, user: AbstractBaseUser | None) -> SalesFile:
    return SalesFile.objects.create(name=name, created_by=user)


def check_uploadable(sales_file: SalesFile) -> None:
    if sales_file.status not in UPLOADABLE:
        raise Conflict(
            f"sales file {sales_file.pk} is {sales_file.status}: its content cannot be replaced now "
            "(a processed file keeps the content its lines came from; create a new sales file)"
        )


def store_content(*, sales_file: SalesFile, content) -> SalesFile:
    """Direct upload: write the file body to the same storage key a presigned PUT would use."""
    check_uploadable(sales_file)
    storage.save(sales_file.upload_key, content)
    SalesFile.objects.filter(pk=sales_file.pk).update(size=content.size)
    sales_file.size = content.size
    return sales_file


# --- sales files: status transitions -------------------------------------------------------------


def _transition(
    sales_file: SalesFile,
    *,
    allowed_from: set[str],
    to: str,
    source: str,
    reason: str = "",
    **fields,
) -> SalesFile:
    with transaction.atomic():
        current = SalesFile.objects.select_for_update().get(pk=sales_file.pk)
        if current.status not in allowed_from:
            raise InvalidTransition(f"sales file {current.pk} is {current.status}; it cannot become {to}")
        previous = current.status
        current.status = to
        current.status_changed_at = timezone.now()
        for name, value in fields.items():
            setattr(current, name, value)
        current.save(update_fields=["status", "status_changed_at", *fields])
        SalesFileEvent.objects.create(
            sales_file=current, from_status=previous, to_status=to, reason=reason, source=source
        )
    return current


def mark_uploaded(sales_file: SalesFile, *, source: str = "api") -> SalesFile:
    """The client says the file is in storage: check it is there and reset the counters."""
    if sales_file.status not in RESTARTABLE:
        raise InvalidTransition(f"sales file {sales_file.pk} is {sales_file.status}; it is being processed")
    try:
        size = storage.size(sales_file.upload_key)
    except storage.Missing:
        raise Conflict(
            f"sales file {sales_file.pk} has no content yet: PUT it to the upload-url or POST it to content/"
        ) from None
    except storage.Unavailable:
        # An outage is not the client's fault: the cleaning step will fail with the reason.
        size = None
    return _transition(
        sales_file,
        allowed_from=RESTARTABLE,
        to=S.UPLOADED,
        source=source,
        size=size,
        format="",
        failure_reason="",
        lines_read=0,
        lines_valid=0,
        lines_rejected=0,
        progress_processed=0,
        progress_total=None,
    )


def mark_cleaning(sales_file: SalesFile, *, source: str = "pipeline") -> SalesFile:
    return _transition(sales_file, allowed_from={S.UPLOADED}, to=S.CLEANING, source=source)


def mark_cleaned(
    sales_file: SalesFile,
    *,
    file_format: str,
    lines_read: int,
    lines_valid: int,
    lines_rejected: int,
    source: str = "pipeline",
) -> SalesFile:
    return _transition(
        sales_file,
        allowed_from={S.CLEANING},
        to=S.CLEANED,
        source=source,
        format=file_format,
        lines_read=lines_read,
        lines_valid=lines_valid,
        lines_rejected=lines_rejected,
        progress_processed=0,
        progress_total=lines_valid,
    )


def mark_importing(sales_file: SalesFile, *, source: str = "pipeline") -> SalesFile:
    return _transition(sales_file, allowed_from={S.CLEANED}, to=S.IMPORTING, source=source)


def mark_processed(sales_file: SalesFile, *, lines: int, source: str = "pipeline") -> SalesFile:
    return _transition(
        sales_file,
        allowed_from={S.IMPORTING},
        to=S.PROCESSED,
        source=source,
        lines_valid=lines,
        progress_processed=lines,
        progress_total=lines,
    )


def mark_failed(sales_file: SalesFile, *, reason: str, source: str = "pipeline") -> SalesFile:
    reason = reason[:2000]
    return _transition(
        sales_file,
        allowed_from={S.INITIALIZED, S.UPLOADED, *IN_PROGRESS},
        to=S.FAILED,
        source=source,
        reason=reason,
        failure_reason=reason,
    )


def finish_import(sales_file: SalesFile, *, lines: int, source: str = "pipeline") -> SalesFile:
    """Snapshot of the imported lines (per DSP, period, currency) and IMPORTING → PROCESSED."""
    with transaction.atomic():
        SalesFileSnapshot.objects.filter(sales_file=sales_file).delete()
        groups = (
            SalesLine.objects.filter(sales_file=sales_file)
            .values("dsp", "period", "currency")
            .annotate(lines=Count("line_number"), units=Sum("units"), revenue=Sum("revenue"))
            .order_by()
        )
        SalesFileSnapshot.objects.bulk_create(SalesFileSnapshot(sales_file=sales_file, **g) for g in groups)
        return mark_processed(sales_file, lines=lines, source=source)


def record_progress(sales_file_id: int, processed: int) -> None:
    SalesFile.objects.filter(pk=sales_file_id).update(progress_processed=processed)


# --- pipeline hand-offs ---------------------------------------------------------------------------


def start_processing(sales_file: SalesFile) -> SalesFile:
    """UPLOADED, then the cleaning task is queued (it queues the import when it succeeds)."""
    sales_file = mark_uploaded(sales_file)
    async_task(
        "statements.tasks.clean_salesfile", sales_file.pk, task_name=f"clean-salesfile-{sales_file.pk}"
    )
    return sales_file


def queue_import(sales_file: SalesFile) -> None:
    async_task(
        "statements.tasks.import_salesfile", sales_file.pk, task_name=f"import-salesfile-{sales_file.pk}"
    )


def apply_webhook_event(event: SignedEvent) -> SalesFile:
    """A signed report from an external module; each event id is accepted once."""
    sales_file = SalesFile.objects.filter(pk=event.file_id).first()
    if sales_file is None:
        raise LookupError(f"no sales file with id {event.file_id}")
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                event_id=event.event_id, sales_file=sales_file, event=event.event, payload=event.payload
            )
    except IntegrityError:
        raise Conflict(f"event {event.event_id!r} was already received: replay refused") from None
    if event.event == "failed":
        return mark_failed(sales_file, reason=event.reason, source="webhook")
    if event.event == "imported":
        with transaction.atomic():
            lines = SalesLine.objects.filter(sales_file=sales_file).count()
            return finish_import(sales_file, lines=lines, source="webhook")
    counts = {name: _count(event.payload, name) for name in ("lines_read", "lines_valid", "lines_rejected")}
    file_format = event.payload.get("format")
    sales_file = mark_cleaned(
        sales_file,
        file_format=file_format if file_format in SalesFileFormat.values else "",
        source="webhook",
        **counts,
    )
    queue_import(sales_file)
    return sales_file


def _count(payload: dict, name: str) -> int:
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
