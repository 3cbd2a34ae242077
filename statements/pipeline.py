"""The processing pipeline of a sales file: cleaning (storage → normalised CSV + rejected-lines
report in storage) and import (normalised CSV → SalesLine rows + snapshot), both streamed.

The import uses PostgreSQL's COPY (psycopg2 `copy_expert`) because it loads a million lines an
order of magnitude faster than INSERTs; other databases get batched `bulk_create`.
"""

import csv
import io
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction

from project import storage
from project.db import side_connection
from statements import services
from statements.cleaning import CLEAN_COLUMNS, LineTooLong, parse
from statements.models import SalesFile, SalesFileStatus, SalesLine

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 50_000
BULK_BATCH = 5_000
COPY_CHUNK = 1 << 20
PROGRESS_SQL = "UPDATE statements_salesfile SET progress_processed = %s WHERE id = %s"
# Unquoted empty fields would be NULLs for COPY; the optional text columns are empty strings.
COPY_SQL = (
    f"COPY statements_salesline (sales_file_id, {', '.join(CLEAN_COLUMNS)}) "
    "FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL (isrc, upc, title))"
)
ProgressCallback = Callable[[SalesFile, int, int | None], None]


@dataclass
class _Cleaned:
    file_format: str | None
    lines: int
    valid: int
    rejected: int
    fatal: str = ""
    first_problem: str = ""


def process_now(sales_file: SalesFile, *, on_progress: ProgressCallback | None = None) -> SalesFile:
    """Run the whole pipeline in this process (management command): UPLOADED … PROCESSED/FAILED."""
    sales_file = services.mark_uploaded(sales_file, source="command")
    sales_file = clean_sales_file(sales_file.pk, on_progress=on_progress)
    if sales_file.status == SalesFileStatus.CLEANED:
        sales_file = import_sales_file(sales_file.pk, on_progress=on_progress)
    return sales_file


def clean_sales_file(sales_file_id: int, *, on_progress: ProgressCallback | None = None) -> SalesFile:
    """UPLOADED → CLEANING → CLEANED, or FAILED with the reason."""
    sales_file = services.mark_cleaning(SalesFile.objects.get(pk=sales_file_id))
    try:
        outcome = _clean(sales_file, on_progress)
    except (storage.Missing, storage.Unavailable, LineTooLong) as exc:
        return services.mark_failed(sales_file, reason=f"cleaning failed: {exc}")
    except Exception as exc:
        logger.exception("cleaning sales file %s", sales_file.pk)
        return services.mark_failed(sales_file, reason=f"cleaning failed (internal error): {exc!r}")
    if outcome.fatal:
        return services.mark_failed(sales_file, reason=outcome.fatal)
    if outcome.valid == 0:
        detail = f" (first: {outcome.first_problem})" if outcome.first_problem else ""
        reason = f"no valid sales lines: {outcome.rejected} line(s) rejected{detail}"
        return services.mark_failed(sales_file, reason=reason)
    return services.mark_cleaned(
        sales_file,
        file_format=outcome.file_format,
        lines_read=outcome.lines,
        lines_valid=outcome.valid,
        lines_rejected=outcome.rejected,
    )


def _clean(sales_file: SalesFile, on_progress: ProgressCallback | None) -> _Cleaned:
    with tempfile.TemporaryDirectory(prefix="statements-clean-") as workdir:
        cleaned_path, rejected_path = Path(workdir, "cleaned.csv"), Path(workdir, "rejected.csv")
        # Write-only text files: a read/write one would reset its decoder on every row written.
        with (
            cleaned_path.open("w", encoding="utf-8", newline="") as cleaned,
            rejected_path.open("w", encoding="utf-8", newline="") as rejected,
        ):
            outcome = _clean_into(sales_file, cleaned, rejected, on_progress)
        with rejected_path.open("rb") as content:
            storage.save(sales_file.rejected_key, content)
        if not outcome.fatal:
            with cleaned_path.open("rb") as content:
                storage.save(sales_file.cleaned_key, content)
    _progress(sales_file, outcome.lines, None, on_progress)
    return outcome


def _clean_into(sales_file: SalesFile, cleaned, rejected, on_progress: ProgressCallback | None) -> _Cleaned:
    write_row = csv.writer(cleaned, lineterminator="\n").writerow
    write_problem = csv.writer(rejected, lineterminator="\n").writerow
    write_row(CLEAN_COLUMNS)
    write_problem(("line", "reason"))
    stream = storage.open_stream(sales_file.upload_key)
    try:
        file_format, results, stats = parse(stream)
        outcome = _Cleaned(file_format, 0, 0, 0)
        next_progress = PROGRESS_EVERY
        for item in results:
            if type(item) is tuple:
                write_row(item)
                outcome.valid += 1
            elif item.fatal:
                outcome.fatal = item.reason
                break
            else:
                write_problem((item.line, item.reason))
                outcome.rejected += 1
                outcome.first_problem = outcome.first_problem or f"line {item.line}: {item.reason}"
            if stats.lines >= next_progress:
                next_progress = stats.lines + PROGRESS_EVERY
                _progress(sales_file, stats.lines, None, on_progress)
        outcome.lines = stats.lines
    finally:
        stream.close()
    return outcome


def import_sales_file(sales_file_id: int, *, on_progress: ProgressCallback | None = None) -> SalesFile:
    """CLEANED → IMPORTING → PROCESSED: the file's lines are replaced in one transaction."""
    sales_file = services.mark_importing(SalesFile.objects.get(pk=sales_file_id))
    progress = _ImportProgress(sales_file, on_progress)
    try:
        with transaction.atomic():
            SalesLine.objects.filter(sales_file=sales_file).delete()
            if connection.vendor == "postgresql":
                count = _copy_lines(sales_file, progress)
            else:
                count = _bulk_create_lines(sales_file, progress)
            return services.finish_import(sales_file, lines=count)
    except Exception as exc:
        if not isinstance(exc, (storage.Missing, storage.Unavailable)):
            logger.exception("importing sales file %s", sales_file.pk)
        return services.mark_failed(sales_file, reason=f"import failed: {exc}")
    finally:
        progress.close()


def _copy_lines(sales_file: SalesFile, progress: "_ImportProgress") -> int:
    stream = storage.open_stream(sales_file.cleaned_key)
    try:
        source = _PrefixedLines(stream, f"{sales_file.pk},".encode(), progress.advance)
        with connection.cursor() as cursor:
            cursor.copy_expert(COPY_SQL, source, size=COPY_CHUNK)
            return cursor.rowcount
    finally:
        stream.close()


def _bulk_create_lines(sales_file: SalesFile, progress: "_ImportProgress") -> int:
    stream = storage.open_stream(sales_file.cleaned_key)
    try:
        reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", newline=""))
        header = next(reader)
        count, batch = 0, []
        for values in reader:
            batch.append(SalesLine(sales_file=sales_file, **dict(zip(header, values, strict=True))))
            if len(batch) == BULK_BATCH:
                SalesLine.objects.bulk_create(batch)
                count += len(batch)
                progress.advance(len(batch))
                batch = []
        SalesLine.objects.bulk_create(batch)
        return count + len(batch)
    finally:
        stream.close()


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
    """Progress of an import, written on a second connection: the import itself runs in one
    transaction, whose writes nobody else sees until it commits."""

    def __init__(self, sales_file: SalesFile, on_progress: ProgressCallback | None):
        self.sales_file = sales_file
        self.on_progress = on_progress
        self.done = 0
        self.next_report = PROGRESS_EVERY
        self.side = side_connection()

    def advance(self, lines: int) -> None:
        self.done += lines
        if self.done < self.next_report:
            return
        self.next_report = self.done + PROGRESS_EVERY
        if self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(PROGRESS_SQL, [self.done, self.sales_file.pk])
        if self.on_progress:
            self.on_progress(self.sales_file, self.done, self.sales_file.progress_total)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _progress(
    sales_file: SalesFile, done: int, total: int | None, on_progress: ProgressCallback | None
) -> None:
    services.record_progress(sales_file.pk, done)
    if on_progress:
        on_progress(sales_file, done, total)
