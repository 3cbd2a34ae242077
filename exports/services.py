"""Write operations of the exports app: sync with Moneybird, create and delete export files, publish
the public summary list. Each writes in one transaction and republishes the summary on change."""

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from exports import files
from exports.models import Document, ExportedDocument, ExportFile, Mutation, SyncRun
from exports.moneybird import KINDS, MoneybirdClient, document_url
from exports.records import document_fields, mutations_between
from exports.selectors import live_export, summary_list
from exports.workbook import DeletedDocument, export_rows, xlsx_bytes
from project.api import BadRequest

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# Key of the PostgreSQL advisory lock that serialises syncs ("MBSY").
SYNC_LOCK_KEY = 0x4D425359
# Control characters never occur in a Moneybird id, and PostgreSQL refuses NUL and lone surrogates.
_ID = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]{1,32}")
# ext becomes part of a storage key: one path segment, no "..", no control or non-ASCII characters.
_EXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.()-]{0,49}")
_STORED_FIELDS = [
    "type",
    "version",
    "create_date",
    "invoice_date",
    "status",
    "contact",
    "reference",
    "currency",
    "total_excl_tax",
    "total_incl_tax",
    "raw",
]


class NotFound(Exception):
    """The named export or file does not exist."""


class SyncConflict(Exception):
    """Another sync is running."""


@dataclass(frozen=True)
class SyncResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    mutations: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)

    def as_dict(self) -> dict:
        return asdict(self)


def publish_summary() -> int:
    """Write incoming-summary-list.json to the public storage; returns the number of entries."""
    entries = summary_list()
    files.put(files.summary_key(), json.dumps(entries, ensure_ascii=False).encode())
    return len(entries)


def sync_documents(
    *, client: MoneybirdClient, progress: Callable[[int, int], None] | None = None
) -> SyncResult:
    """Bring the stored documents up to date with Moneybird; a sync that finds no change writes nothing.

    Everything is read from Moneybird first and applied in one transaction, so a failure half-way
    leaves the previous state (and the published summary) intact. `progress(processed, total)` is
    called after every fetched batch; the SyncRun row records the same.
    """
    with _sync_lock():
        remote: dict[str, tuple[str, int]] = {}
        for kind in KINDS:
            for item in client.sync_list(kind):
                remote[str(item["id"])] = (kind, int(item.get("version") or 0))
        local = {
            document.moneybird_id: document
            for document in Document.objects.only(
                "moneybird_id", "type", "version", "status", "invoice_date", "removed_at"
            )
        }
        wanted: dict[str, list[str]] = {kind: [] for kind in KINDS}
        for moneybird_id, (kind, version) in remote.items():
            document = local.get(moneybird_id)
            if document is None or document.removed_at or version > document.version or kind != document.type:
                wanted[kind].append(moneybird_id)
        gone = [doc.pk for mb_id, doc in local.items() if mb_id not in remote and doc.removed_at is None]
        if not gone and not any(wanted.values()):
            return SyncResult()
        run = SyncRun.objects.create(total=sum(len(ids) for ids in wanted.values()))
        try:
            fetched = [
                (kind, record)
                for kind, ids in wanted.items()
                if ids
                for record in client.fetch(kind, ids, on_batch=lambda size: _advance(run, size, progress))
            ]
            with transaction.atomic():
                result = _apply_sync(local, fetched, gone)
        except Exception as exc:
            SyncRun.objects.filter(pk=run.pk).update(
                status=SyncRun.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
            )
            raise
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.DONE, finished_at=timezone.now(), **result.as_dict()
        )
        logger.info("Moneybird sync: %s", result)
        return result


def _advance(run: SyncRun, size: int, progress: Callable[[int, int], None] | None) -> None:
    run.processed += size
    SyncRun.objects.filter(pk=run.pk).update(processed=run.processed)
    if progress is not None:
        progress(run.processed, run.total)


@contextmanager
def _sync_lock() -> Iterator[None]:
    """One sync at a time across all web and worker processes (a PostgreSQL advisory lock)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise SyncConflict("Another Moneybird sync is running; try again in a moment")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])


def _apply_sync(local: dict[str, Document], fetched: list[tuple[str, dict]], gone: list[int]) -> SyncResult:
    now = timezone.now()
    exported = set(
        ExportedDocument.objects.filter(export_file__no_log=False, export_file__deleted=False)
        .values_list("document_id", flat=True)
        .distinct()
    )
    created, updated, mutations = [], [], []
    for kind, record in fetched:
        fields = document_fields(record, kind)
        document = local.get(str(record["id"]))
        if document is None:
            created.append(Document(moneybird_id=str(record["id"]), synced_at=now, **fields))
            continue
        if document.pk in exported:
            old = {"status": document.status, "invoice_date": document.invoice_date}
            old |= {"type": document.type, "version": document.version}
            mutations.extend(
                Mutation(
                    document=document, field_name=name, old_value=before, new_value=after, detected_at=now
                )
                for name, before, after in mutations_between(old, fields)
            )
        for name, value in fields.items():
            setattr(document, name, value)
        document.synced_at, document.removed_at = now, None
        updated.append(document)
    Document.objects.bulk_create(created, batch_size=BATCH_SIZE)
    Document.objects.bulk_update(updated, [*_STORED_FIELDS, "synced_at", "removed_at"], batch_size=BATCH_SIZE)
    Document.objects.filter(pk__in=gone).update(removed_at=now)
    Mutation.objects.bulk_create(mutations, batch_size=BATCH_SIZE)
    publish_summary()
    return SyncResult(created=len(created), updated=len(updated), removed=len(gone), mutations=len(mutations))


def clean_ids(ids: object) -> list[str]:
    """The distinct document ids of a request (strings or numbers), or BadRequest."""
    if not isinstance(ids, list) or not ids:
        raise BadRequest("ids must be a non-empty list of Moneybird document ids")
    cleaned = [
        str(item).strip() if isinstance(item, str | int) and not isinstance(item, bool) else ""
        for item in ids
    ]
    if not all(_ID.fullmatch(item) for item in cleaned):
        raise BadRequest(
            "ids must contain only document ids (strings or numbers of at most 32 characters, "
            "no control characters or lone surrogates)"
        )
    return list(dict.fromkeys(cleaned))


def clean_ext(ext: object) -> str:
    """The export name's `ext`, or BadRequest for anything that is not a plain name fragment."""
    if ext in (None, ""):
        return ""
    if not isinstance(ext, str) or not _EXT.fullmatch(ext) or ".." in ext:
        raise BadRequest(
            "ext may only hold letters, digits, spaces and . _ - ( ) (at most 50 characters, "
            "starting with a letter or digit, no '..')"
        )
    return ext


def export_name(*, stamp: str, ext: str, no_log: bool) -> str:
    """[nolog-]purchase-export-<YYYYMMDD HHMMSS>[-ext].xlsx"""
    return f"{'nolog-' if no_log else ''}purchase-export-{stamp}{f'-{ext}' if ext else ''}.xlsx"


def _fetch_for_export(client: MoneybirdClient, documents: list[Document]) -> dict[str, tuple[str, dict]]:
    """Current records by id, asking each document's stored type first, then the other type."""
    found: dict[str, tuple[str, dict]] = {}
    for attempt in range(2):
        for kind in KINDS:
            ids = [
                doc.moneybird_id
                for doc in documents
                if doc.moneybird_id not in found and (doc.type == kind) == (attempt == 0)
            ]
            for record in client.fetch(kind, ids) if ids else []:
                found.setdefault(str(record["id"]), (kind, record))
    return found


def _last_file(document: Document) -> str | None:
    links = document.export_links.filter(export_file__deleted=False).select_related("export_file")
    latest = links.order_by("export_file__no_log", "-export_file__created").first()
    return latest.export_file.name if latest else None


def create_export(
    *,
    client: MoneybirdClient,
    ids: object,
    ext: object = "",
    no_log: object = False,
    user: AbstractBaseUser | None = None,
) -> ExportFile:
    """Build the xlsx of `ids` from Moneybird's current records, store it and (unless no_log) mark the
    documents exported and clear their mutations."""
    ids, ext = clean_ids(ids), clean_ext(ext)
    if not isinstance(no_log, bool | None):
        raise BadRequest("noLog must be true or false")
    no_log = bool(no_log)
    known = {doc.moneybird_id: doc for doc in Document.objects.filter(moneybird_id__in=ids)}
    unknown = [moneybird_id for moneybird_id in ids if moneybird_id not in known]
    if unknown:
        raise BadRequest(f"Unknown document ids (sync first?): {', '.join(unknown[:20])}")
    documents = [known[moneybird_id] for moneybird_id in ids]
    found = _fetch_for_export(client, documents)
    rows = export_rows(
        records=[found[doc.moneybird_id] for doc in documents if doc.moneybird_id in found],
        deleted=[
            DeletedDocument(doc.moneybird_id, doc.type, _last_file(doc))
            for doc in documents
            if doc.moneybird_id not in found
        ],
        ledger_accounts=client.ledger_accounts(),
        tax_rates=client.tax_rates(),
        link_for=lambda moneybird_id: document_url(client.administration_id, moneybird_id),
    )
    content = xlsx_bytes(rows)
    exported = [doc for doc in documents if doc.moneybird_id in found]
    written = None
    try:
        with transaction.atomic():
            export = _new_export_file(
                ext=ext, no_log=no_log, user=user, documents=len(exported), rows=len(rows)
            )
            ExportedDocument.objects.bulk_create(
                [ExportedDocument(export_file=export, document=doc) for doc in exported],
                batch_size=BATCH_SIZE,
            )
            if not no_log:
                Mutation.objects.filter(document__in=exported, cleared_at__isnull=True).update(
                    cleared_at=timezone.now(), cleared_by=export
                )
            written = export.storage_key  # before the write: a failed write may leave part of a file
            files.put(export.storage_key, content)
            publish_summary()
    except Exception:
        if written:
            _discard(written)
        raise
    logger.info("Export %s: %d documents, %d rows", export.name, len(exported), len(rows))
    return export


def _discard(key: str) -> None:
    """Best-effort removal of a file whose export was rolled back; the original error is what counts."""
    try:
        files.delete(key)
    except files.StorageUnavailable:
        logger.warning("Could not remove %s after a failed export; it is not listed anywhere", key)


def _new_export_file(
    *, ext: str, no_log: bool, user: AbstractBaseUser | None, documents: int, rows: int
) -> ExportFile:
    """Create the ExportFile row; a name already taken moves on to the next free second."""
    moment = timezone.localtime()
    while True:
        names = [
            export_name(
                stamp=(moment + timedelta(seconds=step)).strftime("%Y%m%d %H%M%S"), ext=ext, no_log=no_log
            )
            for step in range(60)
        ]
        taken = set(ExportFile.objects.filter(name__in=names, deleted=False).values_list("name", flat=True))
        for name in names:
            if name in taken:
                continue
            try:
                with transaction.atomic():
                    return ExportFile.objects.create(
                        name=name,
                        ext=ext,
                        no_log=no_log,
                        created_by=user if user is not None and user.is_authenticated else None,
                        document_count=documents,
                        row_count=rows,
                        storage_key=files.storage_key(name),
                    )
            except IntegrityError:
                if not ExportFile.objects.filter(name=name, deleted=False).exists():
                    raise
                # Taken by a concurrent export since the look-up: try the next second.
        moment += timedelta(seconds=len(names))


def delete_export(*, filename: object) -> ExportFile:
    """Delete a live export file: its storage object and its document references, so its documents
    can be exported again. The ExportFile row stays, flagged deleted, as history."""
    files.storage_key(filename)
    with transaction.atomic():
        export = live_export(str(filename))
        if export is None:
            raise NotFound(f"No export file named {filename!r}")
        export = ExportFile.objects.select_for_update().get(pk=export.pk)
        export.links.all().delete()
        export.deleted, export.deleted_at = True, timezone.now()
        export.save(update_fields=["deleted", "deleted_at"])
        # Deleting first keeps a retry possible: a missing object deletes without error.
        files.delete(export.storage_key)
        publish_summary()
    return export


def store_public_file(*, filename: object, content: bytes) -> str:
    """Write a file in the public exports area (unsafe: may overwrite official files)."""
    key = files.storage_key(filename)
    files.put(key, content)
    return key


def delete_public_file(*, filename: object) -> str:
    """Delete a file of the public exports area (unsafe: may delete official files)."""
    key = files.storage_key(filename)
    if not files.exists(key):
        raise NotFound(f"No file named {filename!r}")
    files.delete(key)
    return key
