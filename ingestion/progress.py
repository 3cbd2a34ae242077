"""Progress of a running import (records processed / total), visible outside its transaction.

An import is one transaction whose writes nobody sees until it commits, so the progress row is
written by `project.db.ProgressWriter` on a second connection.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from ingestion.models import ImportProgress
from project.db import ProgressWriter

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[str, int, int], None]  # (file name, processed records, total records)


class ProgressRecorder:
    """The `ImportProgress` row of one import: created by `start()`, updated every
    INGESTION_PROGRESS_EVERY records by `update()`, deleted by `close()` once the import ended."""

    def __init__(self, *, name: str, total: int, on_progress: ProgressCallback | None = None):
        self.name = name
        self.total = total
        self.on_progress = on_progress
        self.every = max(1, settings.INGESTION_PROGRESS_EVERY)
        self.next_at = self.every  # the record count that triggers the next write
        self.processed = 0
        self._writer: ProgressWriter | None = None

    def start(self) -> None:
        self._writer = ProgressWriter()
        now = timezone.now()
        # A row left by a crashed attempt of the same file is taken over.
        self._writer.execute(
            f"INSERT INTO {self._table()} (name, processed, total, started_at, updated_at)"  # noqa: S608 (quoted name)
            " VALUES (%s, 0, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET processed = 0,"
            " total = excluded.total, started_at = excluded.started_at, updated_at = excluded.updated_at",
            [self.name, self.total, now, now],
        )

    def update(self, processed: int) -> None:
        """Record `processed` if it reached the next step; cheap to call at every batch."""
        if processed < self.next_at or processed == self.processed:
            return
        self.processed = processed
        self.next_at = (processed // self.every + 1) * self.every
        if self._writer is None:  # not started: nothing to record
            return
        self._writer.execute(
            f"UPDATE {self._table()} SET processed = %s, updated_at = %s WHERE name = %s",  # noqa: S608
            [processed, timezone.now(), self.name],
        )
        if self.on_progress:
            self.on_progress(self.name, processed, self.total)

    def finish(self) -> None:
        """Every record has been processed."""
        self.next_at = min(self.next_at, self.total)
        self.update(self.total)

    def close(self) -> None:
        """Remove the row (the file itself now tells the outcome) and the second connection."""
        if self._writer is None:
            return
        try:
            self._writer.execute(f"DELETE FROM {self._table()} WHERE name = %s", [self.name])  # noqa: S608
        except DatabaseError as exc:  # progress is advisory: never hide the import's own outcome
            logger.warning("progress row of %s not removed: %s", self.name, exc)
        finally:
            self._writer.close()
            self._writer = None

    def _table(self) -> str:
        return connection.ops.quote_name(ImportProgress._meta.db_table)
