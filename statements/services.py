"""Write operations of the statements app: runs, sales files and their status machine, rate sets.

Status machine of a sales file (one function per transition, each recorded as a SalesFileEvent):
INITIALIZED → UPLOADED → CLEANING → CLEANED → IMPORTING → PROCESSED, or FAILED (with a reason)
from any step, or NEEDS_MAPPING from CLEANING (no import profile reads the header: `save_mapping`);
FAILED, NEEDS_MAPPING and PROCESSED files can be uploaded/processed again, and so can a file in
CLEANING/CLEANED/IMPORTING whose lease lapsed (the task that held it died). The flow that drives
these transitions is `statements.pipeline`.
"""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.text import slugify

from project import storage
from project.audit import record_action
from project.errors import Conflict, InvalidInput, NotFound
from project.money import EXACT, exact_text
from project.stored_text import Text
from statements import duplicates
from statements.cleaners import READERS
from statements.cleaners.profiles import ProfileSpec
from statements.models import (
    ExchangeRate,
    ImportProfile,
    RateChange,
    RateException,
    SalesFile,
    SalesFileCombination,
    SalesFileEvent,
    SalesFileSnapshot,
    SalesFileStatus,
    SalesFileTrack,
    SalesLine,
    StatementRun,
    WebhookEvent,
)
from statements.texts import CATALOGUE, text
from statements.webhook import WebhookEvent as SignedEvent

# The ImportProfile fields a profile is shared by (statements.selectors.profiles_for_export).
PROFILE_FIELDS = (
    "slug",
    "name",
    "active",
    "priority",
    "delimiter",
    "decimal_separator",
    "date_order",
    "columns",
    "required",
    "defaults",
    "preamble",
    "sale_types",
    "void_values",
    "skip_values",
    "skip_markers",
    "documentation",
)

S = SalesFileStatus
RESTARTABLE = {S.INITIALIZED, S.UPLOADED, S.FAILED, S.NEEDS_MAPPING, S.PROCESSED}
IN_PROGRESS = {S.CLEANING, S.CLEANED, S.IMPORTING}
# A PROCESSED file's content is what its lines came from, so it is never replaced.
UPLOADABLE = {S.INITIALIZED, S.UPLOADED, S.FAILED, S.NEEDS_MAPPING}
# Files whose columns may be mapped by hand: no profile read them (or one that failed them).
MAPPABLE = {S.NEEDS_MAPPING, S.FAILED}
FORMAT_LENGTH = 64


class InvalidTransition(Conflict):
    """A sales file is not in a status the requested transition starts from."""

    default_code = "invalid_transition"


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
    if hasattr(run, "royalty"):  # finalised (statements.royalties): its statements are posted
        raise Conflict(f"Statement run #{run.pk} is finalised: no more sales files.", code="run_finalized")
    (sales_file,) = _existing_files([sales_file_id])
    run.sales_files.add(sales_file)
    if sales_file.status == SalesFileStatus.PROCESSED:
        # Its sales may already be in another run: say so before this run's report counts them.
        found = duplicates.looks_like(duplicates.groups_of(sales_file), sales_file=sales_file)
        if new := [warning for warning in found if warning not in sales_file.warnings]:
            sales_file.warnings = [*sales_file.warnings, *new]
            SalesFile.objects.filter(pk=sales_file.pk).update(warnings=sales_file.warnings)
    return sales_file


def _existing_files(ids: list[int]) -> list[SalesFile]:
    files = list(SalesFile.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {f.pk for f in files})
    if missing:
        raise NotFound(f"no sales file with id {', '.join(map(str, missing))}", code="salesfile_not_found")
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
        record_action(
            "statements.rates_replaced", target=run, changes={"rates": [len(previous), len(items)]}, user=user
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
        record_action(
            "statements.exceptions_replaced",
            target=run,
            changes={"exceptions": [len(previous), len(items)]},
            user=user,
        )


def _lock_unreported(run: StatementRun) -> StatementRun:
    run = StatementRun.objects.select_for_update().get(pk=run.pk)
    if run.report_generated_at is not None:
        raise Conflict(
            f"the rates of run {run.pk} are frozen: a report was generated at "
            f"{timezone.localtime(run.report_generated_at):%Y-%m-%d %H:%M}",
            code="rates_frozen",
        )
    return run


def _jsonable(items: list[dict]) -> list[dict]:
    return [{**item, "rate": str(item["rate"])} for item in items]


# --- sales files: creation and upload ------------------------------------------------------------


def create_sales_file(
    *, name: str, user: AbstractBaseUser | None, profile: str = "", revenue_basis: str = ""
) -> SalesFile:
    """A new sales file; `profile` (an active import profile's slug, "ddex_dsr" or "clicknclear")
    skips format detection; `revenue_basis` (a `RevenueBasis`, blank: the default) is the income
    column if it is a DDEX DSR file."""
    if (
        profile
        and profile not in READERS
        and not ImportProfile.objects.filter(slug=profile, active=True).exists()
    ):
        known = ", ".join(
            [*READERS, *ImportProfile.objects.filter(active=True).values_list("slug", flat=True)]
        )
        raise InvalidInput(
            f"no active import profile {profile!r} (known: {known})",
            code="unknown_profile",
            problems=[{"loc": ["body", "payload", "profile"], "msg": f"unknown profile {profile!r}"}],
        )
    return SalesFile.objects.create(name=name, created_by=user, profile=profile, revenue_basis=revenue_basis)


def check_uploadable(sales_file: SalesFile) -> None:
    if sales_file.status not in UPLOADABLE:
        raise Conflict(
            f"sales file {sales_file.pk} is {sales_file.status}: its content cannot be replaced now "
            "(a processed file keeps the content its lines came from; create a new sales file)",
            code="salesfile_not_uploadable",
        )


def store_content(
    *, sales_file: SalesFile, content, allow_duplicate: bool = False, reason: str = ""
) -> SalesFile:
    """Direct upload: write the file body to the same storage key a presigned PUT would use. The
    same bytes as an earlier file are refused (409 `salesfile_duplicate`) unless allowed with a
    reason."""
    check_uploadable(sales_file)
    digest = hashlib.sha256()
    for chunk in content.chunks():
        digest.update(chunk)
    content.seek(0)
    duplicate = _duplicate_check(sales_file, digest.hexdigest(), allow_duplicate, reason)
    storage.save(sales_file.upload_key, content)
    SalesFile.objects.filter(pk=sales_file.pk).update(size=content.size, **duplicate)
    sales_file.size = content.size
    for name, value in duplicate.items():
        setattr(sales_file, name, value)
    return sales_file


def _duplicate_check(sales_file: SalesFile, sha256: str, allow: bool, reason: str) -> dict:
    """The duplicate fields for content of this SHA-256: refused (Conflict `salesfile_duplicate`
    naming the earlier file and its runs) when an earlier file has the same bytes, unless
    `allow` with a reason, which is kept."""
    # Ids grow with creation: an earlier file has a smaller one.
    earlier = SalesFile.objects.filter(sha256=sha256, pk__lt=sales_file.pk).order_by("pk").first()
    if earlier is None:
        return {"sha256": sha256, "duplicate_of": None, "duplicate_reason": ""}
    if sales_file.sha256 == sha256 and sales_file.duplicate_of_id == earlier.pk:
        return {"sha256": sha256}  # allowed when it was uploaded; processing it again is no new copy
    runs = list(earlier.runs.order_by("pk").values_list("pk", "name"))
    where = ", ".join(f"statement run #{pk} {name!r}" for pk, name in runs) or "no statement run"
    if not allow:
        raise Conflict(
            f"sales file {sales_file.pk} has the same bytes (SHA-256) as sales file #{earlier.pk} "
            f"{earlier.name!r} in {where}; send it again with allow_duplicate and a reason to import it anyway",
            code="salesfile_duplicate",
            problems=[
                {
                    "loc": ["salesfiles", earlier.pk],
                    "msg": f"same bytes as sales file #{earlier.pk} {earlier.name!r}",
                },
                *(
                    {
                        "loc": ["statement_run", pk],
                        "msg": f"sales file #{earlier.pk} is in run #{pk} {name!r}",
                    }
                    for pk, name in runs
                ),
            ],
        )
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput(
            "allow_duplicate needs a reason (why the same bytes are imported again)",
            code="duplicate_reason_required",
            problems=[{"loc": ["body", "reason"], "msg": "a reason is required with allow_duplicate"}],
        )
    return {"sha256": sha256, "duplicate_of": earlier, "duplicate_reason": reason[:2000]}


def _stored_sha256(sales_file: SalesFile) -> str:
    digest = hashlib.sha256()
    stream = storage.open_stream(sales_file.upload_key)
    try:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    finally:
        stream.close()
    return digest.hexdigest()


# --- sales files: status transitions -------------------------------------------------------------


def lease_expiry(*, external: bool = False) -> datetime:
    """Until when a task (or the external cleaning module) holds a file it just took."""
    seconds = settings.STATEMENTS_EXTERNAL_CLEANING_TIMEOUT if external else settings.STATEMENTS_LEASE_SECONDS
    return timezone.now() + timedelta(seconds=seconds)


def is_held(sales_file: SalesFile) -> bool:
    """Whether a live task holds the file: it is mid-pipeline and its lease has not lapsed."""
    return (
        sales_file.status in IN_PROGRESS
        and sales_file.lease_until is not None
        and sales_file.lease_until > timezone.now()
    )


def _transition(
    sales_file: SalesFile,
    *,
    allowed_from: set[str],
    to: str,
    source: str,
    reason: str = "",
    take_over: bool = False,
    **fields,
) -> SalesFile:
    """Move the file to `to` under a row lock; with `take_over`, a mid-pipeline file whose lease
    lapsed may be moved too (the event says so)."""
    with transaction.atomic():
        current = SalesFile.objects.select_for_update().get(pk=sales_file.pk)
        stale = take_over and current.status in IN_PROGRESS and not is_held(current)
        if current.status not in allowed_from and not stale:
            if take_over and current.status in IN_PROGRESS:
                raise _busy(current)
            raise InvalidTransition(f"sales file {current.pk} is {current.status}; it cannot become {to}")
        if stale:
            held = (
                f" (lease lapsed at {current.lease_until:%Y-%m-%d %H:%M:%S} UTC)"
                if current.lease_until
                else ""
            )
            reason = reason or f"taken over: no live task held the file in {current.status}{held}"
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


def _busy(sales_file: SalesFile) -> InvalidTransition:
    return InvalidTransition(
        f"sales file {sales_file.pk} is {sales_file.status}: a task is processing it "
        f"(its lease runs until {timezone.localtime(sales_file.lease_until):%Y-%m-%d %H:%M:%S})",
        code="salesfile_busy",
    )


def mark_uploaded(
    sales_file: SalesFile,
    *,
    source: str = "api",
    allow_duplicate: bool = False,
    reason: str = "",
    revenue_basis: str | None = None,
) -> SalesFile:
    """The client says the file is in storage: check it is there and is no copy of an earlier
    file's bytes (409 `salesfile_duplicate` unless allowed with a reason), and reset the counters.
    A file stuck mid-pipeline with no live task is taken over; one a task holds is a 409.
    `revenue_basis` (None: unchanged; blank: the default) is the DSR income column to clean with."""
    if is_held(sales_file):
        raise _busy(sales_file)
    # A finalised run's statements were paid from these lines (statements.royalties).
    paid_by = sales_file.runs.filter(royalty__isnull=False).values_list("pk", flat=True).first()
    if paid_by is not None:
        raise Conflict(
            f"sales file {sales_file.pk} is in finalised statement run #{paid_by}: its lines were paid "
            "and are not replaced; correct them with a new file in a new run",
            code="salesfile_paid",
        )
    try:
        size = storage.size(sales_file.upload_key)
    except storage.Missing:
        raise Conflict(
            f"sales file {sales_file.pk} has no content yet: PUT it to the upload-url or POST it to content/",
            code="salesfile_no_content",
        ) from None
    except storage.Unavailable:
        # An outage is not the client's fault: the cleaning step will fail with the reason.
        size = None
    duplicate = {}
    if size is not None:
        duplicate = _duplicate_check(sales_file, _stored_sha256(sales_file), allow_duplicate, reason)
    return _transition(
        sales_file,
        allowed_from=RESTARTABLE,
        to=S.UPLOADED,
        source=source,
        take_over=True,
        size=size,
        format="",
        detail="",
        warnings=[],
        declared={},
        totals={},
        reconciliation={},
        failure_reason="",
        failure_code="",
        failure_params={},
        lines_read=0,
        lines_valid=0,
        lines_rejected=0,
        progress_processed=0,
        progress_total=None,
        lease_until=None,
        **duplicate,
        **({} if revenue_basis is None else {"revenue_basis": revenue_basis}),
    )


def mark_cleaning(sales_file: SalesFile, *, source: str = "pipeline", external: bool = False) -> SalesFile:
    return _transition(
        sales_file,
        allowed_from={S.UPLOADED},
        to=S.CLEANING,
        source=source,
        lease_until=lease_expiry(external=external),
    )


def mark_cleaned(sales_file: SalesFile, *, findings: dict, source: str = "pipeline") -> SalesFile:
    """`findings`: what the cleaning found (see `findings_fields`); the import is queued next."""
    return _transition(
        sales_file,
        allowed_from={S.CLEANING},
        to=S.CLEANED,
        source=source,
        progress_processed=0,
        progress_total=findings.get("lines_valid", 0),
        lease_until=lease_expiry(),
        **findings_fields(findings),
    )


def findings_fields(findings: dict) -> dict:
    """The SalesFile fields of a cleaning's findings, bounded to what the columns hold."""
    fields = {}
    for name in ("lines_read", "lines_valid", "lines_rejected"):
        if name in findings:
            fields[name] = findings[name]
    if "format" in findings:
        fields["format"] = (findings["format"] or "")[:FORMAT_LENGTH]
    if findings.get("revenue_basis"):
        fields["revenue_basis"] = findings["revenue_basis"]
    if "detail" in findings:
        fields["detail"] = (findings["detail"] or "")[:300]
    if "warnings" in findings:
        fields["warnings"] = [str(w)[:2000] for w in findings["warnings"][:1000]]
    if "declared" in findings:
        fields["declared"] = findings["declared"]
    if "reconciliation" in findings:
        fields["reconciliation"] = findings["reconciliation"]
    return fields


def mark_importing(sales_file: SalesFile, *, source: str = "pipeline") -> SalesFile:
    return _transition(
        sales_file, allowed_from={S.CLEANED}, to=S.IMPORTING, source=source, lease_until=lease_expiry()
    )


def mark_processed(sales_file: SalesFile, *, lines: int, source: str = "pipeline") -> SalesFile:
    return _transition(
        sales_file,
        allowed_from={S.IMPORTING},
        to=S.PROCESSED,
        source=source,
        lines_valid=lines,
        progress_processed=lines,
        progress_total=lines,
        lease_until=None,
    )


def mark_failed(
    sales_file: SalesFile, *, reason: Text | str, source: str = "pipeline", findings: dict | None = None
) -> SalesFile:
    """FAILED with the reason (a Text of statements.texts is shown in the reader's language, its
    English sentence stored beside it); what the cleaning found (format, counts, warnings) is kept."""
    return _stop(
        sales_file, allowed_from={S.INITIALIZED, S.UPLOADED, *IN_PROGRESS}, to=S.FAILED,
        reason=reason, findings=findings or {}, source=source,
    )  # fmt: skip


def mark_needs_mapping(
    sales_file: SalesFile, *, reason: Text | str, findings: dict, source: str = "pipeline"
) -> SalesFile:
    """NEEDS_MAPPING: no import profile reads the file's header; the reason says which it saw
    (stored as `mark_failed` stores one)."""
    return _stop(
        sales_file, allowed_from={S.CLEANING}, to=S.NEEDS_MAPPING, reason=reason, findings=findings,
        source=source,
    )  # fmt: skip


def _stop(
    sales_file: SalesFile, *, allowed_from: set, to: str, reason: Text | str, findings: dict, source: str
) -> SalesFile:
    """A transition that stops the file with a reason: a Text of statements.texts is kept as its
    code and parameters (shown in the reader's language) beside its English sentence."""
    coded = reason if isinstance(reason, Text) else Text("")
    reason = (CATALOGUE.english(reason) if isinstance(reason, Text) else reason)[:2000]
    return _transition(
        sales_file,
        allowed_from=allowed_from,
        to=to,
        source=source,
        reason=reason,
        failure_reason=reason,
        failure_code=coded.code,
        failure_params=coded.params,
        lease_until=None,
        **findings_fields(findings),
    )


def save_mapping(
    *, sales_file: SalesFile, profile: dict, name: str, save: bool, user: AbstractBaseUser | None
) -> ImportProfile:
    """Store a column mapping as an import profile (`profile`: its fields, already checked) and
    make it the file's profile. Saved, it is active and read for every file with that header
    from then on; otherwise it is kept inactive, for this file only. The caller starts the file."""
    with transaction.atomic():
        current = SalesFile.objects.select_for_update().get(pk=sales_file.pk)
        if current.status not in MAPPABLE:
            raise Conflict(
                f"sales file {current.pk} is {current.status}: only a file no import profile reads "
                "(NEEDS_MAPPING) or a FAILED one can be mapped",
                code="salesfile_not_mappable",
            )
        created = ImportProfile.objects.create(
            slug=_free_slug(name or f"salesfile-{current.pk}"), name=name, active=save, **profile
        )
        current.profile = created.slug
        current.save(update_fields=["profile"])
        record_action(
            "statements.mapping_saved",
            target=current,
            changes={"profile": [sales_file.profile, created.slug]},
            user=user,
        )
    sales_file.profile = created.slug
    return created


def _free_slug(name: str) -> str:
    base = (slugify(name).replace("-", "_") or "mapped")[:40]
    taken = set(ImportProfile.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    taken.update(READERS)
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}_{number}"
    return slug


def load_profiles(records: list) -> tuple[int, int]:
    """Create or update import profiles (by slug) from exported records, all or nothing; each is
    checked as the admin checks one. A built-in profile is never replaced (it ships with the
    app). Returns (created, updated)."""
    problems, checked = [], []
    builtin = set(ImportProfile.objects.filter(builtin=True).values_list("slug", flat=True))
    for number, record in enumerate(records if isinstance(records, list) else [None], start=1):
        fields = record.get("fields", record) if isinstance(record, dict) else None
        try:
            if not isinstance(fields, dict) or not isinstance(fields.get("slug"), str):
                raise ValueError("not a profile record (an object with fields and a slug)")
            unknown = set(fields) - set(PROFILE_FIELDS) - {"builtin"}
            if unknown:
                raise ValueError(f"unknown fields {', '.join(sorted(unknown))}")
            if fields["slug"] in builtin or fields["slug"] in READERS:
                raise ValueError(f"{fields['slug']!r} is a built-in format's name; rename the profile")
            profile = ImportProfile(**{k: v for k, v in fields.items() if k != "builtin"})
            profile.full_clean(validate_unique=False)
            ProfileSpec.from_model(profile)
        except (ValueError, TypeError, ValidationError) as exc:
            problems.append({"loc": [f"profile {number}"], "msg": str(exc)})
            continue
        checked.append(profile)
    if problems:
        raise InvalidInput("the profiles have errors; nothing was imported", problems=problems)
    created = 0
    with transaction.atomic():
        for profile in checked:
            values = {name: getattr(profile, name) for name in PROFILE_FIELDS if name != "slug"}
            _, new = ImportProfile.objects.update_or_create(slug=profile.slug, defaults=values)
            created += new
    return created, len(checked) - created


def finish_import(sales_file: SalesFile, *, lines: int, source: str = "pipeline") -> SalesFile:
    """Snapshot of the imported lines (per DSP, period, currency), the file's control totals per
    currency, and IMPORTING → PROCESSED. The sums a royalty draft reads (`keep_track_sums`) were of
    the lines just replaced: they are deleted here, and computed again by a task queued once the
    lines are committed, rather than in this transaction (the import would wait for them)."""
    with transaction.atomic():
        SalesFileTrack.objects.filter(sales_file=sales_file).delete()
        SalesFileCombination.objects.filter(sales_file=sales_file).delete()
        SalesFileSnapshot.objects.filter(sales_file=sales_file).delete()
        groups = (
            SalesLine.objects.filter(sales_file=sales_file)
            .values("dsp", "period", "currency")
            .annotate(lines=Count("line_number"), units=Sum("units"), revenue=Sum("revenue"))
            .order_by()
        )
        SalesFileSnapshot.objects.bulk_create(SalesFileSnapshot(sales_file=sales_file, **g) for g in groups)
        per_currency = (
            SalesFileSnapshot.objects.filter(sales_file=sales_file)
            .values("currency")
            .annotate(lines=Sum("lines"), units=Sum("units"), revenue=Sum("revenue"))
            .order_by("currency")
        )
        totals = {
            g["currency"]: {"lines": g["lines"], "units": g["units"], "revenue": exact_text(g["revenue"])}
            for g in per_currency
        }
        reconciliation = _reconciled(sales_file, totals)
        warnings = [*sales_file.warnings, *_declared_differs(sales_file, totals)]
        warnings += duplicates.looks_like(duplicates.groups_of(sales_file), sales_file=sales_file)
        SalesFile.objects.filter(pk=sales_file.pk).update(
            totals=totals, reconciliation=reconciliation, warnings=warnings
        )
        sales_file.warnings = warnings
        sales_file = mark_processed(sales_file, lines=lines, source=source)
        transaction.on_commit(lambda: _queue_track_sums(sales_file.pk))
        return sales_file


def _queue_track_sums(sales_file_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "statements.tasks.keep_track_sums", sales_file_id, task_name=f"track-sums-salesfile-{sales_file_id}"
    )


# A file's lines are replaced only once it has left PROCESSED (`mark_cleaning`, `mark_importing`),
# and its kept sums deleted in the transaction that makes it PROCESSED again (`finish_import`).
# Holding PROCESSED files FOR SHARE keeps them there until the caller's transaction ends, so sums
# computed or read under it are those of the committed lines.
HOLD_PROCESSED_SQL = (
    "SELECT id FROM statements_salesfile WHERE id = ANY (%s) AND status = %s ORDER BY id FOR SHARE"
)
TRACKS_MISSING_SQL = """
SELECT f.id FROM unnest(%s::bigint[]) f (id)
WHERE NOT EXISTS (SELECT 1 FROM statements_salesfiletrack t WHERE t.sales_file_id = f.id)
"""
# pg_advisory_xact_lock(namespace, sales file id): summing a file's lines, one transaction at a time.
TRACK_SUMS_LOCK = 24
# One pass over the files' lines: their sums per track and their sale type x DSP x territory
# combinations. (A file without lines has none, and costs an index probe each time.)
KEEP_TRACK_SUMS_SQL = """
WITH sums AS (
  SELECT sales_file_id, currency, dsp, period, isrc, upc, artist, sale_type, territory,
         count(*) AS lines, sum(units)::bigint AS units, sum(revenue) AS revenue, max(title) AS title,
         GROUPING(sale_type) = 0 AS combination
  FROM statements_salesline WHERE sales_file_id = ANY (%s)
  GROUP BY GROUPING SETS (
    (sales_file_id, currency, dsp, period, isrc, upc, artist), (sales_file_id, sale_type, dsp, territory)
  )
), tracks AS (
  INSERT INTO statements_salesfiletrack
    (sales_file_id, currency, dsp, period, isrc, upc, artist, lines, units, revenue, title)
  SELECT sales_file_id, currency, dsp, period, isrc, upc, artist, lines, units, revenue, title
  FROM sums WHERE NOT combination
)
INSERT INTO statements_salesfilecombination (sales_file_id, sale_type, dsp, territory)
SELECT sales_file_id, sale_type, dsp, territory FROM sums WHERE combination
"""


def keep_track_sums(sales_file_ids: list[int]) -> bool:
    """Sum the lines of the files of `sales_file_ids` whose sums are not kept yet (`SalesFileTrack`,
    `SalesFileCombination`); whether every one is PROCESSED, so that its kept sums are its lines'.
    The caller's transaction holds them PROCESSED until it ends. A file is summed by one transaction
    at a time: another finds its sums once that one commits."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(HOLD_PROCESSED_SQL, [sales_file_ids, SalesFileStatus.PROCESSED])
        if len(cursor.fetchall()) < len(set(sales_file_ids)):
            return False
        cursor.execute(TRACKS_MISSING_SQL, [sales_file_ids])
        missing = [row[0] for row in cursor.fetchall()]
        if missing:
            for sales_file_id in sorted(missing):
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TRACK_SUMS_LOCK, sales_file_id])
            cursor.execute(TRACKS_MISSING_SQL, [missing])
            missing = [row[0] for row in cursor.fetchall()]
        if missing:
            # A hash aggregate of tracks in memory, not spilled to disk (for this transaction).
            cursor.execute("SET LOCAL work_mem = '512MB'")
            cursor.execute(KEEP_TRACK_SUMS_SQL, [missing])
    return True


def _declared_differs(sales_file: SalesFile, totals: dict) -> list[str]:
    """A warning per currency whose total the file declares about itself (a totals row, DSR
    summaries) differs from its imported lines' (a report cut short, or totals of more lines)."""
    warnings = []
    for currency, declared in (sales_file.declared or {}).get("revenue", {}).items():
        if currency not in totals:
            continue  # a totals row without a currency names none of the imported ones
        imported = totals[currency]["revenue"]
        try:
            differs = Decimal(declared) != Decimal(imported)
        except ArithmeticError:
            differs = True
        if differs:
            warnings.append(
                f"the file declares {currency} {declared} in its own totals; its imported lines hold {currency} {imported}"
            )
    return warnings


class NotReconciled(Exception):
    """The imported lines do not hold the file's money: the import is rolled back."""

    def __init__(self, reason: Text, reconciliation: dict):
        super().__init__(CATALOGUE.english(reason))
        self.reason = reason
        self.reconciliation = reconciliation


def _reconciled(sales_file: SalesFile, totals: dict) -> dict:
    """The cleaning's per-currency sums (`source`: every sales line's amount as written, void
    lines as reversals; `rejected`) completed with what was imported and the difference, which
    must be zero: source = imported + rejected. A file cleaned elsewhere (the external module)
    has no sums to check."""
    if not sales_file.reconciliation:
        return {}
    zero = Decimal(0)
    result = {}
    for currency in sorted(sales_file.reconciliation.keys() | totals.keys()):
        found = sales_file.reconciliation.get(currency, {})
        source, rejected = Decimal(found.get("source", 0)), Decimal(found.get("rejected", 0))
        imported = Decimal(totals.get(currency, {}).get("revenue", 0))
        difference = EXACT.subtract(source, EXACT.add(imported, rejected))
        result[currency] = {
            key: exact_text(value)
            for key, value in (
                ("source", source),
                ("imported", imported),
                ("rejected", rejected),
                ("difference", difference),
            )
        }
    unequal = [f"{c} {r['difference']}" for c, r in result.items() if Decimal(r["difference"]) != zero]
    if unequal:
        raise NotReconciled(text("not_reconciled", difference=", ".join(unequal)), result)
    return result


def record_progress(sales_file_id: int, processed: int) -> None:
    """Progress of a running task; it is also the task's heartbeat, so it renews the lease."""
    SalesFile.objects.filter(pk=sales_file_id).update(
        progress_processed=processed, lease_until=lease_expiry()
    )


def record_webhook_event(event: SignedEvent) -> SalesFile:
    """Remember a signed event from the external module; each event id is accepted once."""
    sales_file = SalesFile.objects.filter(pk=event.file_id).first()
    if sales_file is None:
        raise NotFound(f"no sales file with id {event.file_id}", code="salesfile_not_found")
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                event_id=event.event_id, sales_file=sales_file, event=event.event, payload=event.payload
            )
    except IntegrityError:
        raise Conflict(
            f"event {event.event_id!r} was already received: replay refused", code="webhook_replayed"
        ) from None
    return sales_file
