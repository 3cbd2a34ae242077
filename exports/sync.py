"""The Moneybird sync: bring the stored documents up to date with Moneybird's synchronization lists,
record the mutations of exported documents (deletions and money changes included) and republish the
summary. A full sync is the scheduled safety net; a partial one looks only at the ids webhook calls
named (`sync_pending`)."""

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.utils import timezone

from exports.models import Document, Mutation, MutationField, PendingSync, SyncRun
from exports.moneybird import KINDS, MoneybirdClient
from exports.records import document_fields, mutations_between
from exports.services import BATCH_SIZE, publish_summary
from project.errors import Conflict

logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock that serialises syncs ("MBSY").
SYNC_LOCK_KEY = 0x4D425359
DELETED_STATUS = "deleted"
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


def sync_documents(
    *,
    client: MoneybirdClient,
    only: Collection[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Bring the stored documents (all, or the ids in `only`) up to date with Moneybird.

    Everything is read from Moneybird first and applied in one transaction, so a failure half-way
    leaves the previous state (and the published summary) intact. Every sync is a SyncRun row whose
    progress (`processed` of `total` documents) moves after each fetched batch, as does
    `progress(processed, total)`; a successful full sync's end is the API's syncDate.
    """
    with _sync_lock():
        run = SyncRun.objects.create(partial=only is not None)
        try:
            result = _sync(client, run, only, progress)
        except Exception as exc:
            SyncRun.objects.filter(pk=run.pk).update(
                status=SyncRun.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
            )
            raise
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.DONE, finished_at=timezone.now(), **result.as_dict()
        )
        PendingSync.objects.filter(
            received_at__lte=run.started_at, **({} if only is None else {"moneybird_id__in": list(only)})
        ).delete()
        if result.changed:
            logger.info("Moneybird sync%s: %s", " (webhook ids)" if only is not None else "", result)
        return result


def _sync(
    client: MoneybirdClient,
    run: SyncRun,
    only: Collection[str] | None,
    progress: Callable[[int, int], None] | None,
) -> SyncResult:
    versions: dict[str, tuple[str, int]] = {}
    for kind in KINDS:
        for item in client.sync_list(kind):
            versions[str(item["id"])] = (kind, int(item.get("version") or 0))
    documents = (
        Document.objects.all() if only is None else Document.objects.filter(moneybird_id__in=list(only))
    )
    local = {
        document.moneybird_id: document
        for document in documents.only(
            "moneybird_id", "type", "version", "status", "invoice_date", "removed_at", "last_export"
        )
    }
    considered = versions if only is None else {key: versions[key] for key in only if key in versions}
    wanted: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for moneybird_id, (kind, version) in considered.items():
        document = local.get(moneybird_id)
        if document is None or document.removed_at or version > document.version or kind != document.type:
            wanted[kind].append(moneybird_id)
    gone = [doc for mb_id, doc in local.items() if mb_id not in versions and doc.removed_at is None]
    if not gone and not any(wanted.values()):
        return SyncResult()
    run.total = sum(len(ids) for ids in wanted.values())
    SyncRun.objects.filter(pk=run.pk).update(total=run.total)
    fetched = [
        (kind, record)
        for kind, ids in wanted.items()
        if ids
        for record in client.fetch(kind, ids, on_batch=lambda size: _advance(run, size, progress))
    ]
    with transaction.atomic():
        return _apply(local, fetched, gone, versions)


def _advance(run: SyncRun, size: int, progress: Callable[[int, int], None] | None) -> None:
    run.processed += size
    SyncRun.objects.filter(pk=run.pk).update(processed=run.processed)
    if progress is not None:
        progress(run.processed, run.total)


@contextmanager
def _sync_lock() -> Iterator[None]:
    """One sync at a time across all web and worker processes (a PostgreSQL advisory lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise Conflict("Another Moneybird sync is running; try again in a moment", code="sync_running")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])


def _apply(
    local: dict[str, Document],
    fetched: list[tuple[str, dict]],
    gone: list[Document],
    versions: dict[str, tuple[str, int]],
) -> SyncResult:
    now = timezone.now()
    exported_ids = [
        local[str(record["id"])].pk
        for _, record in fetched
        if str(record["id"]) in local and local[str(record["id"])].last_export_id
    ]
    # The previous record of exported documents only: money changes are compared against it.
    previous = dict(Document.objects.filter(pk__in=exported_ids).values_list("pk", "raw"))
    created, updated, mutations = [], [], []
    for kind, record in fetched:
        moneybird_id = str(record["id"])
        fields = document_fields(record, kind, versions.get(moneybird_id, (kind, 0))[1])
        document = local.get(moneybird_id)
        if document is None:
            created.append(Document(moneybird_id=moneybird_id, synced_at=now, **fields))
            continue
        if document.pk in previous:
            old = {
                "status": DELETED_STATUS if document.removed_at else document.status,
                "invoice_date": document.invoice_date,
                "type": document.type,
                "version": document.version,
                "raw": previous[document.pk],
            }
            mutations.extend(
                Mutation(
                    document=document,
                    field_name=name,
                    detail=detail,
                    old_value=before,
                    new_value=after,
                    detected_at=now,
                )
                for name, detail, before, after in mutations_between(old, fields)
            )
        for name, value in fields.items():
            setattr(document, name, value)
        document.synced_at, document.removed_at = now, None
        updated.append(document)
    Document.objects.bulk_create(created, batch_size=BATCH_SIZE)
    Document.objects.bulk_update(updated, [*_STORED_FIELDS, "synced_at", "removed_at"], batch_size=BATCH_SIZE)
    Document.objects.filter(pk__in=[doc.pk for doc in gone]).update(removed_at=now)
    # Accountants who booked an exported document must see that it is gone from Moneybird.
    mutations.extend(
        Mutation(
            document=doc,
            field_name=MutationField.DELETED,
            old_value=doc.status,
            new_value=DELETED_STATUS,
            detected_at=now,
        )
        for doc in gone
        if doc.last_export_id
    )
    Mutation.objects.bulk_create(mutations, batch_size=BATCH_SIZE)
    publish_summary()
    return SyncResult(created=len(created), updated=len(updated), removed=len(gone), mutations=len(mutations))


def sync_pending(*, client: MoneybirdClient) -> SyncResult:
    """Sync the ids webhook calls named since the last sync (nothing to do when none wait)."""
    ids = list(PendingSync.objects.values_list("moneybird_id", flat=True))
    if not ids:
        return SyncResult()
    return sync_documents(client=client, only=ids)
