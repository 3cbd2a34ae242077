"""The statements pipeline, top to bottom: what happens to a sales file from the moment a client
asks to process it until it is PROCESSED or FAILED.

    1. start      upload check (the content is in storage) → UPLOADED; the cleaning task is queued
    2. clean      storage → normalised CSV + rejected-lines report → CLEANED; the import is queued
       2b.        or, with STATEMENTS_EXTERNAL_CLEANING, the file waits in CLEANING for the signed
                  webhook of the external module (`on_webhook`: cleaned / imported / failed)
    3. import     normalised CSV → SalesLine rows, replaced in one transaction (COPY)
    4. snapshot   the catalogue's releases and tracks (royalties), totals per DSP, period and
                  currency, control totals per currency → PROCESSED
    5. failure    any step → FAILED with the reason; what the cleaning found (format, counts,
                  warnings, rejected-lines report) stays on the file, and it can be processed again
       5b.        a table whose header no import profile reads → NEEDS_MAPPING: someone maps its
                  columns (`statements.mapping`), which saves an import profile, and it starts again

The task and the command run steps 2 to 4 overlapped (`clean_and_import`): the COPY of step 3 is fed from
the cleaner's rows while they are produced, in the import's transaction, so PostgreSQL loads while
Python cleans; CLEANED, IMPORTING and PROCESSED are recorded in that transaction at its end. `clean`
and `import_lines` stay separate steps for the external cleaning module's webhook.

The status transitions themselves are `statements.services` functions; tasks and the management
command are one-line calls into this module. A task holds its file through a lease it renews with
every progress write, so a file whose task died can be taken over (`services.is_held`).
"""

import csv
import io
import json
import logging
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django_q.tasks import async_task

from project import db, storage
from project.money import EXACT, exact_text
from project.stored_text import Text
from statements import selectors, services, vectorised
from statements.cleaners import DDEX_DSR, parse
from statements.cleaners.base import CLEAN_COLUMNS, Problem
from statements.cleaners.dsr import bases_by_profile
from statements.cleaners.profiles import ProfileSpec
from statements.models import SalesFile, SalesFileStatus, SalesLine
from statements.royalties import services as royalty_services
from statements.texts import text
from statements.webhook import WebhookEvent

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 50_000
COPY_CHUNK = 1 << 20
CLEAN_CHUNK = 2_000  # cleaned rows per chunk written (and fed to COPY)
# ISRC/UPC pairs whose first line the cleaner keeps for the catalogue (≈0.7 kB each); past them
# the catalogue scans the imported lines instead.
FIRST_LINES_LIMIT = 250_000
PROGRESS_SQL = "UPDATE statements_salesfile SET progress_processed = %s, lease_until = %s WHERE id = %s"
# Unquoted empty fields would be NULLs for COPY; the optional text columns are empty strings.
COPY_OPTIONS = (
    "FORMAT csv, HEADER true, FORCE_NOT_NULL (artist, isrc, upc, title, use_type, commercial_model, release)"
)
SEPARATORS = len(CLEAN_COLUMNS) - 1  # commas in a line of the normalised CSV
FORMAT_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
ProgressCallback = Callable[[SalesFile, int, int | None], None]
S = SalesFileStatus


# --- 1. start: the upload check ------------------------------------------------------------------


def start(
    sales_file: SalesFile,
    *,
    source: str = "api",
    allow_duplicate: bool = False,
    reason: str = "",
    revenue_basis: str | None = None,
) -> SalesFile:
    """UPLOADED (FAILED, PROCESSED and abandoned files too), then the cleaning task is queued. The
    same bytes as an earlier file need `allow_duplicate` and a reason (`services.mark_uploaded`);
    `revenue_basis` (None: as it is) is the DSR income column to clean with."""
    sales_file = services.mark_uploaded(
        sales_file, source=source, allow_duplicate=allow_duplicate, reason=reason, revenue_basis=revenue_basis
    )
    async_task(
        "statements.tasks.clean_salesfile", sales_file.pk, task_name=f"clean-salesfile-{sales_file.pk}"
    )
    return sales_file


def process_now(sales_file: SalesFile, *, on_progress: ProgressCallback | None = None) -> SalesFile:
    """The whole pipeline in this process (management command): UPLOADED … PROCESSED/FAILED."""
    sales_file = services.mark_uploaded(sales_file, source="command")
    return clean_and_import(sales_file.pk, on_progress=on_progress)


# --- 2. clean ------------------------------------------------------------------------------------


def clean_task(sales_file_id: int) -> str:
    """Queued by `start`: clean, then queue the import (or wait for the external module)."""
    try:
        if settings.STATEMENTS_EXTERNAL_CLEANING:
            sales_file = SalesFile.objects.get(pk=sales_file_id)
            return services.mark_cleaning(sales_file, external=True).status
        sales_file = clean_and_import(sales_file_id)
    except services.InvalidTransition as exc:
        # A duplicate task (the file was queued twice): the first one owns the file.
        logger.info("skipping duplicate cleaning task: %s", exc)
        return str(exc)
    if sales_file.status == S.CLEANED:
        _queue_import(sales_file)
    return sales_file.status


@dataclass
class Cleaning:
    """What the cleaning of one file found; it stays on the file whatever the outcome."""

    format: str = ""
    revenue_basis: str = ""  # a DSR file's income column
    detail: str = ""
    lines_read: int = 0
    lines_valid: int = 0
    lines_rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    declared: dict = field(default_factory=dict)
    fatal: Text | str = ""
    unknown_layout: bool = False  # the fatal reason is a header no profile reads: it can be mapped
    # The first rejected line, as a stored message (statements.texts: "line_reason")
    first_problem: dict = field(default_factory=dict)
    # Exact sums per currency of the cleaned lines' amounts and of the rejected lines' (where
    # they read): the reconciliation checks the imported lines against them.
    amounts: dict[str, Decimal] = field(default_factory=dict)
    rejected_amounts: dict[str, Decimal] = field(default_factory=dict)
    # Each ISRC/UPC pair's first cleaned line (its codes, titles, artist), for the catalogue, when the lines are imported as
    # they are cleaned (None: not collected, the catalogue reads the imported lines).
    first_lines: royalty_services.FirstLines | None = None

    def findings(self) -> dict:
        keys = (
            "format",
            "revenue_basis",
            "detail",
            "lines_read",
            "lines_valid",
            "lines_rejected",
            "warnings",
            "declared",
        )
        return {key: getattr(self, key) for key in keys} | {"reconciliation": self.reconciliation()}

    def reconciliation(self) -> dict:
        """Per currency, the file's amounts (cleaned + rejected lines) and the rejected part."""
        zero = Decimal(0)
        return {
            currency: {
                "source": exact_text(
                    EXACT.add(self.amounts.get(currency, zero), self.rejected_amounts.get(currency, zero))
                ),
                "rejected": exact_text(self.rejected_amounts.get(currency, zero)),
            }
            for currency in sorted(self.amounts.keys() | self.rejected_amounts.keys())
        }


def clean(sales_file_id: int, *, on_progress: ProgressCallback | None = None) -> SalesFile:
    """UPLOADED → CLEANING → CLEANED, or FAILED with the reason and what was found."""
    sales_file = services.mark_cleaning(SalesFile.objects.get(pk=sales_file_id))
    if reason := _too_large(sales_file):
        return services.mark_failed(sales_file, reason=reason)
    outcome = Cleaning()
    try:
        _clean(sales_file, outcome, on_progress)
    except (storage.Missing, storage.Unavailable) as exc:
        return services.mark_failed(
            sales_file, reason=text("cleaning_failed", error=str(exc)), findings=outcome.findings()
        )
    except Exception as exc:
        logger.exception("cleaning sales file %s", sales_file.pk)
        reason = text("cleaning_internal_error", error=repr(exc))
        return services.mark_failed(sales_file, reason=reason, findings=outcome.findings())
    if reason := _unusable(outcome):
        return _stopped(sales_file, outcome, reason)
    return services.mark_cleaned(sales_file, findings=outcome.findings())


def clean_and_import(sales_file_id: int, *, on_progress: ProgressCallback | None = None) -> SalesFile:
    """UPLOADED → CLEANING → CLEANED → IMPORTING → PROCESSED (or FAILED) with cleaning and import
    overlapped: the COPY is fed from the cleaner's rows while they are produced, in
    the import's transaction, so the database loads while Python cleans. The cleaned CSV and the
    rejected-lines report are written to storage as with `clean`; CLEANED, IMPORTING and
    PROCESSED are recorded in that transaction once every line is read, so the lines replace the
    previous ones all or nothing. Progress (lines read) goes through a second connection."""
    sales_file = services.mark_cleaning(SalesFile.objects.get(pk=sales_file_id))
    if reason := _too_large(sales_file):
        return services.mark_failed(sales_file, reason=reason)
    outcome = Cleaning()
    progress = _ImportProgress(sales_file, on_progress)
    try:
        with transaction.atomic():
            SalesLine.objects.filter(sales_file=sales_file).delete()
            count = _clean(sales_file, outcome, on_progress, copy=progress)
            if reason := _unusable(outcome):
                raise _Unusable(reason)
            sales_file = services.mark_cleaned(sales_file, findings=outcome.findings())
            sales_file = services.mark_importing(sales_file)
            # --- 4. catalogue, snapshot, control totals and PROCESSED, in the same transaction.
            royalty_services.record_catalogue(sales_file=sales_file, first_lines=outcome.first_lines)
            return services.finish_import(sales_file, lines=count)
    except _Unusable as exc:
        return _stopped(sales_file, outcome, exc.reason)
    except services.NotReconciled as exc:
        findings = outcome.findings() | {"reconciliation": exc.reconciliation}
        return services.mark_failed(sales_file, reason=exc.reason, findings=findings)
    except (storage.Missing, storage.Unavailable) as exc:
        return services.mark_failed(
            sales_file, reason=text("cleaning_failed", error=str(exc)), findings=outcome.findings()
        )
    except (_CopyFailed, DatabaseError) as exc:
        logger.exception("importing sales file %s", sales_file.pk)
        return services.mark_failed(
            sales_file, reason=text("import_failed", error=str(exc)), findings=outcome.findings()
        )
    except Exception as exc:
        logger.exception("cleaning sales file %s", sales_file.pk)
        reason = text("cleaning_internal_error", error=repr(exc))
        return services.mark_failed(sales_file, reason=reason, findings=outcome.findings())
    finally:
        progress.close()


class _Unusable(Exception):
    """The cleaning found nothing to import: the transaction is rolled back."""

    def __init__(self, reason: Text | str):
        super().__init__(str(reason))
        self.reason = reason


def _stopped(sales_file: SalesFile, outcome: "Cleaning", reason: Text | str) -> SalesFile:
    """FAILED with the reason, or NEEDS_MAPPING when no import profile reads the file's header."""
    if outcome.unknown_layout:
        return services.mark_needs_mapping(sales_file, reason=reason, findings=outcome.findings())
    return services.mark_failed(sales_file, reason=reason, findings=outcome.findings())


def _too_large(sales_file: SalesFile) -> Text | None:
    limit = settings.STATEMENTS_MAX_UPLOAD_BYTES
    if sales_file.size is None or sales_file.size <= limit:
        return None
    # The presigned POST's policy bounds uploads on S3 itself; this catches stores that do not
    # enforce it and objects written there by other means.
    return text("too_large", size=sales_file.size, limit=limit)


def _unusable(outcome: "Cleaning") -> Text | str:
    """Why a finished cleaning gives nothing to import, or ""."""
    if outcome.fatal:
        return outcome.fatal
    if outcome.lines_valid == 0 and outcome.first_problem:
        return text("no_valid_lines_first", rejected=outcome.lines_rejected, first=outcome.first_problem)
    if outcome.lines_valid == 0:
        return text("no_valid_lines", rejected=outcome.lines_rejected)
    return ""


def _clean(
    sales_file: SalesFile,
    outcome: Cleaning,
    on_progress: ProgressCallback | None,
    copy: "_ImportProgress | None" = None,
) -> int:
    """Clean into the normalised CSV and the rejected-lines report, both saved to storage. With
    `copy`, the cleaned lines are also fed to a COPY into statements_salesline as they are
    produced (in the caller's transaction); returns the number of rows it loaded."""
    copied = 0
    with tempfile.TemporaryDirectory(prefix="statements-clean-") as workdir:
        cleaned_path, rejected_path = Path(workdir, "cleaned.csv"), Path(workdir, "rejected.csv")
        # Write-only text files: a read/write one would reset its decoder on every row written.
        with (
            cleaned_path.open("w", encoding="utf-8", newline="") as cleaned,
            rejected_path.open("w", encoding="utf-8", newline="") as rejected,
        ):
            # Read before a COPY starts: the connection runs nothing else while it is in progress.
            profiles = selectors.import_profiles(including=sales_file.profile)
            if copy is None:
                report = _cleaning_progress(sales_file, on_progress)
                for chunk in _clean_into(sales_file, profiles, outcome, rejected, report):
                    cleaned.write(chunk)
            elif (plain := _staged(sales_file, profiles)) is not None:
                copied = _import_plain(plain, outcome, cleaned, rejected)
                copy.report(outcome.lines_read)
            else:
                outcome.first_lines = {}
                chunks = _clean_into(sales_file, profiles, outcome, rejected, copy.report)
                copied = _copy_chunks(sales_file, _tee(chunks, cleaned.write))
        # The rejected-lines report is kept whatever the outcome: it is what a user acts on.
        with rejected_path.open("rb") as content:
            storage.save(sales_file.rejected_key, content)
        if not outcome.fatal:
            with cleaned_path.open("rb") as content:
                storage.save(sales_file.cleaned_key, content)
    if copy is None:
        _progress(sales_file, outcome.lines_read, None, on_progress)
    return copied


def _staged(sales_file: SalesFile, profiles: list[ProfileSpec]) -> vectorised.PlainFile | None:
    """The file staged in PostgreSQL when it is plain enough to be cleaned set-based (and
    STATEMENTS_VECTORISED is on), else None: the Python cleaner reads it."""
    if not settings.STATEMENTS_VECTORISED:
        return None
    stream = storage.open_stream(sales_file.upload_key)
    try:
        return vectorised.staged(sales_file, profiles, stream)
    finally:
        stream.close()


def _import_plain(plain: vectorised.PlainFile, outcome: Cleaning, cleaned, rejected) -> int:
    """The staged file's lines imported, its normalised CSV written to `cleaned` and its
    rejected lines to `rejected`, `outcome` filled as the Python path fills it."""
    write_problem = _problem_writer(rejected)
    for problem in plain.problems:
        _rejected_line(outcome, write_problem, problem)
    count = plain.load(cleaned)
    outcome.amounts = plain.amounts()
    outcome.format = outcome.detail = plain.layout.spec.slug
    outcome.lines_read, outcome.lines_valid = plain.stats.lines, count
    outcome.warnings, outcome.declared = plain.stats.warnings, plain.stats.declared
    return count


def _problem_writer(rejected) -> Callable[[tuple], object]:
    """The rejected-lines report's row writer, its header written."""
    write_problem = csv.writer(rejected, lineterminator="\n").writerow
    # The reason in English, and as its code with parameters (JSON) for a page to translate.
    write_problem(("line", "reason", "code", "params"))
    return write_problem


def _rejected_line(outcome: Cleaning, write_problem: Callable[[tuple], object], item) -> None:
    """A rejected line into the report, its count and its money into `outcome`."""
    write_problem(_report_row(item))
    outcome.lines_rejected += 1
    if item.amount:
        _add_amounts(outcome.rejected_amounts, [(item.currency, item.amount)], 0, 1)
    outcome.first_problem = outcome.first_problem or _first_problem(item)


def _cleaning_progress(sales_file: SalesFile, on_progress: ProgressCallback | None) -> Callable[[int], None]:
    return lambda lines: _progress(sales_file, lines, None, on_progress)


def _tee(chunks: Iterator[str], write: Callable[[str], object]) -> Iterator[str]:
    """The cleaned CSV's chunks, written to the file for the record as they pass to the COPY."""
    for chunk in chunks:
        write(chunk)
        yield chunk


def _clean_into(
    sales_file: SalesFile,
    profiles: list[ProfileSpec],
    outcome: Cleaning,
    rejected,
    report: Callable[[int], None],
) -> Iterator[str]:
    """The normalised CSV (header first) in chunks of about CLEAN_CHUNK rows; rejected lines go
    to `rejected`, `report(lines read)` is called every PROGRESS_EVERY lines."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(CLEAN_COLUMNS)
    yield buffer.getvalue()
    write_problem = _problem_writer(rejected)
    stream = storage.open_stream(sales_file.upload_key)
    try:
        file_format, results, stats = parse(
            stream,
            profiles=profiles,
            profile=sales_file.profile or None,
            file_name=sales_file.name,
            revenue_basis=sales_file.revenue_basis,
            default_bases=bases_by_profile(settings.STATEMENTS_DSR_REVENUE_BASIS),
            blocks=True,
        )
        outcome.format = file_format or ""
        next_progress = PROGRESS_EVERY
        valid = 0
        rows: list[tuple] = []
        add = rows.append
        try:
            for item in results:
                kind = type(item)
                if kind is tuple or kind is list:
                    if kind is tuple:
                        add(item)
                    else:
                        rows += item  # a batch of plain lines
                    if len(rows) < CLEAN_CHUNK:
                        continue
                    yield _csv_text(rows)
                    _add_rows(outcome, rows)
                    valid += len(rows)
                    rows.clear()
                elif item.fatal:
                    outcome.fatal = item.text or item.reason
                    write_problem(_report_row(item))
                    break
                else:
                    _rejected_line(outcome, write_problem, item)
                if stats.lines >= next_progress:
                    next_progress = stats.lines + PROGRESS_EVERY
                    report(stats.lines)
            if rows:
                yield _csv_text(rows)
                _add_rows(outcome, rows)
        finally:
            # Whatever stopped the reading, what was found so far stays on the file.
            outcome.lines_valid = valid + len(rows)
            outcome.lines_read = stats.lines
            outcome.detail, outcome.warnings, outcome.declared = stats.detail, stats.warnings, stats.declared
            outcome.unknown_layout = stats.unknown_layout
            if file_format == DDEX_DSR:
                outcome.revenue_basis = stats.revenue_basis
    finally:
        stream.close()


def _add_rows(outcome: Cleaning, rows: list[tuple]) -> None:
    """The cleaned rows' amounts, and their codes' first lines when collected (up to
    FIRST_LINES_LIMIT pairs), into `outcome`."""
    _add_amounts(outcome.amounts, rows)
    if outcome.first_lines is not None:
        royalty_services.add_first_lines(outcome.first_lines, rows)
        if len(outcome.first_lines) > FIRST_LINES_LIMIT:
            outcome.first_lines = None


def _report_row(problem: Problem) -> tuple:
    """A rejected-lines report row: line, English reason, code and parameters (empty without a code)."""
    if problem.text is None:
        return problem.line, problem.reason, "", ""
    return (
        problem.line,
        problem.reason,
        problem.text.code,
        json.dumps(problem.text.params, ensure_ascii=False),
    )


def _first_problem(problem: Problem) -> dict:
    """The first rejected line as a stored message nested in the file's failure."""
    reason = {"code": problem.text.code, "params": problem.text.params} if problem.text else {}
    return {
        "code": "line_reason",
        "params": {"line": problem.line, "reason": {**reason, "text": problem.reason}},
        "text": f"line {problem.line}: {problem.reason}",
    }


_CURRENCY, _REVENUE = CLEAN_COLUMNS.index("currency"), CLEAN_COLUMNS.index("revenue")


def _add_amounts(
    sums: dict[str, Decimal], rows: list[tuple], currency: int = _CURRENCY, amount: int = _REVENUE
) -> None:
    """Add the rows' amounts to their currency's exact sum, each currency's by one C-level `sum`
    (rows of several currencies are sorted by it first, in C)."""
    code_of, amount_of = itemgetter(currency), itemgetter(amount)
    codes = set(map(code_of, rows))
    groups = ((codes.pop(), rows),) if len(codes) == 1 else groupby(sorted(rows, key=code_of), code_of)
    with localcontext(EXACT):
        for code, group in groups:
            sums[code] = sum(map(Decimal, map(amount_of, group)), sums.get(code, Decimal(0)))


def _csv_text(rows: list[tuple]) -> str:
    """Rows as lines of the normalised CSV. Most rows need no quoting, and joined directly they
    cost half of what csv.writer does: the chunk is checked at once (one comma between fields,
    no quote, no line break in one), and only a chunk that fails the check (or has a value that is
    not text) is written row by row. Same bytes either way."""
    join = ",".join
    try:
        text = "".join([f"{row[0]},{join(row[1:])}\n" for row in rows])
    except TypeError:
        text = ""
    if (
        text.count(",") == SEPARATORS * len(rows)
        and text.count("\n") == len(rows)
        and '"' not in text
        and "\r" not in text
    ):
        return text
    return "".join(map(_csv_line, rows))


def _csv_line(row: tuple) -> str:
    """One row as a line of the normalised CSV, quoted by csv.writer where a field needs it."""
    try:
        line = ",".join(row[1:])
    except TypeError:
        line = '"'
    if line.count(",") == SEPARATORS - 1 and '"' not in line and "\n" not in line and "\r" not in line:
        return f"{row[0]},{line}\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


# --- 2b. the external cleaning module reports through the signed webhook -------------------------


def on_webhook(event: WebhookEvent) -> SalesFile:
    """Apply a verified event: `cleaned` → CLEANED and the import is queued, `imported` →
    snapshot and PROCESSED, `failed` → FAILED with its reason."""
    sales_file = services.record_webhook_event(event)
    if event.event == "failed":
        return services.mark_failed(sales_file, reason=event.reason, source="webhook")
    if event.event == "imported":
        with transaction.atomic():
            lines = SalesLine.objects.filter(sales_file=sales_file).count()
            royalty_services.record_catalogue(sales_file=sales_file)
            return services.finish_import(sales_file, lines=lines, source="webhook")
    sales_file = services.mark_cleaned(
        sales_file, findings=_webhook_findings(event.payload), source="webhook"
    )
    _queue_import(sales_file)
    return sales_file


def _webhook_findings(payload: dict) -> dict:
    findings = {name: _count(payload, name) for name in ("lines_read", "lines_valid", "lines_rejected")}
    file_format = payload.get("format")
    findings["format"] = (
        file_format if isinstance(file_format, str) and FORMAT_SLUG.fullmatch(file_format) else ""
    )
    return findings


def _count(payload: dict, name: str) -> int:
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else 0


# --- 3. import -----------------------------------------------------------------------------------


def _queue_import(sales_file: SalesFile) -> None:
    async_task(
        "statements.tasks.import_salesfile", sales_file.pk, task_name=f"import-salesfile-{sales_file.pk}"
    )


def import_task(sales_file_id: int) -> str:
    """Queued once the file is CLEANED."""
    try:
        return import_lines(sales_file_id).status
    except services.InvalidTransition as exc:
        logger.info("skipping duplicate import task: %s", exc)
        return str(exc)


def import_lines(sales_file_id: int, *, on_progress: ProgressCallback | None = None) -> SalesFile:
    """CLEANED → IMPORTING → (snapshot) → PROCESSED: the file's lines are replaced in one
    transaction, so a failed import keeps the previous lines."""
    sales_file = services.mark_importing(SalesFile.objects.get(pk=sales_file_id))
    progress = _ImportProgress(sales_file, on_progress)
    try:
        with transaction.atomic():
            SalesLine.objects.filter(sales_file=sales_file).delete()
            count = _copy_lines(sales_file, progress)
            # --- 4. catalogue, snapshot, control totals and PROCESSED, in the same transaction.
            royalty_services.record_catalogue(sales_file=sales_file)
            return services.finish_import(sales_file, lines=count)
    except Exception as exc:
        if not isinstance(exc, (storage.Missing, storage.Unavailable)):
            logger.exception("importing sales file %s", sales_file.pk)
        return services.mark_failed(sales_file, reason=text("import_failed", error=str(exc)))
    finally:
        progress.close()


def _copy_lines(sales_file: SalesFile, progress: "_ImportProgress") -> int:
    stream = storage.open_stream(sales_file.cleaned_key)
    try:
        source = _PrefixedLines(stream, f"{sales_file.pk},".encode(), progress.advance)
        return db.copy_from(
            "statements_salesline",
            ["sales_file_id", *CLEAN_COLUMNS],
            source,
            options=COPY_OPTIONS,
            size=COPY_CHUNK,
        )
    finally:
        stream.close()


def _copy_chunks(sales_file: SalesFile, chunks: Iterator[str]) -> int:
    """COPY of the cleaned CSV's chunks (header first), each line prefixed with the file's id.
    An error of the cleaning is raised as itself; a failed COPY raises `_CopyFailed`."""
    prefix = f"{sales_file.pk},"
    newline = "\n" + prefix
    feed = _Feed(prefix + chunk[:-1].replace("\n", newline) + "\n" for chunk in chunks)
    try:
        return db.copy_from(
            "statements_salesline",
            ["sales_file_id", *CLEAN_COLUMNS],
            feed,
            options=COPY_OPTIONS,
            size=COPY_CHUNK,
        )
    except Exception as exc:
        # psycopg2 reports an exception of the reading side as a cancelled COPY.
        if feed.error is not None:
            raise feed.error from None
        raise _CopyFailed(str(exc)) from exc


class _Feed:
    """The chunks fed to a COPY, remembering the exception that stopped producing them."""

    def __init__(self, chunks: Iterator[str]):
        self.chunks = chunks
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self.chunks
        except Exception as exc:
            self.error = exc
            raise


class _CopyFailed(Exception):
    """PostgreSQL refused the COPY of the cleaned lines."""


class _PrefixedLines:
    """File-like over the normalised CSV that prepends the sales file id to every line, for COPY.

    The normalised CSV never has a line break inside a field, so lines are records."""

    def __init__(self, stream, prefix: bytes, on_lines: Callable[[int], None]):
        self.stream = stream
        self.prefix = prefix
        self.on_lines = on_lines
        self.tail = b""
        self.header = True

    def read(self, size: int = -1) -> bytes:
        """The next chunk of prefixed lines (about COPY_CHUNK bytes); b"" at the end."""
        while self.stream is not None:
            chunk = self.stream.read(COPY_CHUNK)
            if not chunk:
                self.stream = None
                if self.tail:
                    self.on_lines(1)
                    return self.prefix + self.tail + b"\n"
                break
            lines = (self.tail + chunk).split(b"\n")
            self.tail = lines.pop()
            if lines:
                self.on_lines(len(lines) - self.header)
                self.header = False
                return self.prefix + (b"\n" + self.prefix).join(lines) + b"\n"
        return b""


class _ImportProgress:
    """Progress of an import (and the task's heartbeat), written on a second connection: the
    import itself runs in one transaction, whose writes nobody else sees until it commits."""

    def __init__(self, sales_file: SalesFile, on_progress: ProgressCallback | None):
        self.sales_file = sales_file
        self.on_progress = on_progress
        self.done = 0
        self.next_report = PROGRESS_EVERY
        self.writer = db.ProgressWriter()

    def advance(self, lines: int) -> None:
        self.done += lines
        if self.done < self.next_report:
            return
        self.next_report = self.done + PROGRESS_EVERY
        self.report(self.done)

    def report(self, done: int) -> None:
        """`done` lines processed (read, while cleaning; imported, while importing)."""
        self.writer.execute(PROGRESS_SQL, [done, services.lease_expiry(), self.sales_file.pk])
        if self.on_progress:
            self.on_progress(self.sales_file, done, self.sales_file.progress_total)

    def close(self) -> None:
        self.writer.close()


def _progress(
    sales_file: SalesFile, done: int, total: int | None, on_progress: ProgressCallback | None
) -> None:
    services.record_progress(sales_file.pk, done)
    if on_progress:
        on_progress(sales_file, done, total)
