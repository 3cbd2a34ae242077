"""Write operations of the exports app: create and delete export files (plain or as corrections),
publish the public summary list, write public files. Each writes in one transaction and republishes
the summary on change. The sync lives in exports/sync.py, webhooks in exports/webhooks.py."""

import json
import logging
import re
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from exports import files, workbook
from exports.models import Document, ExportedDocument, ExportFile, Mutation
from exports.moneybird import KINDS, MoneybirdClient, document_url
from exports.selectors import live_export, summary_list
from project import storage
from project.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# Control characters never occur in a Moneybird id, and PostgreSQL refuses NUL and lone surrogates.
_ID = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]{1,32}")
# Export names carry no space (issue 25; the spec's example "20190701 091055" had one).
STAMP_FORMAT = "%Y%m%d-%H%M%S"
# ext becomes part of a storage key: one path segment, no "..", no control or non-ASCII characters.
_EXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.()-]{0,49}")


def publish_summary() -> int:
    """Write incoming-summary-list.json to the public storage; returns the number of entries."""
    entries = summary_list()
    storage.save(files.summary_key(), json.dumps(entries, ensure_ascii=False).encode())
    return len(entries)


def clean_ids(ids: object) -> list[str]:
    """The distinct document ids of a request (strings or numbers), or InvalidInput."""
    if not isinstance(ids, list) or not ids:
        raise InvalidInput("ids must be a non-empty list of Moneybird document ids", code="invalid_ids")
    cleaned = [
        str(item).strip() if isinstance(item, str | int) and not isinstance(item, bool) else ""
        for item in ids
    ]
    if not all(_ID.fullmatch(item) for item in cleaned):
        raise InvalidInput(
            "ids must contain only document ids (strings or numbers of at most 32 characters, "
            "no control characters or lone surrogates)",
            code="invalid_ids",
        )
    return list(dict.fromkeys(cleaned))


def clean_ext(ext: object) -> str:
    """The export name's `ext`, or InvalidInput for anything that is not a plain name fragment."""
    if ext in (None, ""):
        return ""
    if not isinstance(ext, str) or not _EXT.fullmatch(ext) or ".." in ext:
        raise InvalidInput(
            "ext may only hold letters, digits, spaces and . _ - ( ) (at most 50 characters, "
            "starting with a letter or digit, no '..')",
            code="invalid_ext",
        )
    return ext


def export_name(*, stamp: str, ext: str, no_log: bool) -> str:
    """[nolog-]purchase-export-<YYYYMMDD-HHMMSS>[-ext].xlsx, spaces in `ext` as hyphens: a name
    without spaces survives a download, a shell and a mail client in one piece."""
    suffix = "-".join(ext.split())
    return f"{'nolog-' if no_log else ''}purchase-export-{stamp}{f'-{suffix}' if suffix else ''}.xlsx"


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


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool | None):
        raise InvalidInput(f"{name} must be true or false", code="invalid_flag")
    return bool(value)


def _selected_documents(ids: list[str]) -> list[Document]:
    """The stored documents of `ids`, refusing unknown ids and drafts (which the summary leaves out)."""
    known = {doc.moneybird_id: doc for doc in Document.objects.filter(moneybird_id__in=ids)}
    unknown = [moneybird_id for moneybird_id in ids if moneybird_id not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown document ids (sync first?): {', '.join(unknown[:20])}",
            code="unknown_documents",
            problems=[
                {"loc": ["body", "ids", ids.index(moneybird_id)], "msg": f"{moneybird_id}: unknown document"}
                for moneybird_id in unknown
            ],
        )
    drafts = [moneybird_id for moneybird_id in ids if known[moneybird_id].status == Document.DRAFT_STATE]
    if drafts:
        raise InvalidInput(
            f"Draft documents cannot be exported: {', '.join(drafts[:20])}",
            code="draft_documents",
            problems=[
                {"loc": ["body", "ids", ids.index(moneybird_id)], "msg": f"{moneybird_id}: draft (state new)"}
                for moneybird_id in drafts
            ],
        )
    return [known[moneybird_id] for moneybird_id in ids]


def _previous_rows(documents: list[Document]) -> dict[int, tuple[str, list[list]]]:
    """(file name, decoded rows) of each document's latest logged export, for corrections; refuses
    documents exported before rows were kept (their reversal would be wrong)."""
    links = ExportedDocument.objects.filter(
        document__in=[doc for doc in documents if doc.last_export_id],
        export_file_id__in=[doc.last_export_id for doc in documents if doc.last_export_id],
    ).select_related("export_file", "document")
    previous = {}
    for link in links:
        if link.export_file_id != link.document.last_export_id:
            continue
        if link.rows is None:
            raise InvalidInput(
                f"{link.export_file.name} was made before exported rows were kept: export "
                f"{link.document.moneybird_id} without corrections",
                code="rows_unknown",
            )
        previous[link.document_id] = (link.export_file.name, [workbook.decode_row(row) for row in link.rows])
    return previous


def create_export(
    *,
    client: MoneybirdClient,
    ids: object,
    ext: object = "",
    no_log: object = False,
    corrections: object = False,
    user: AbstractBaseUser | None = None,
) -> ExportFile:
    """Build the xlsx of `ids` from Moneybird's current records, store it and (unless no_log) mark the
    documents exported and clear their mutations.

    With `corrections`, every document exported before gets the rows of its latest logged export
    negated ("reversal of <file>") before its current rows ("current"), so importing the file books
    exactly the difference; a document gone from Moneybird gets only the reversal."""
    ids, ext = clean_ids(ids), clean_ext(ext)
    no_log, corrections = _flag(no_log, "noLog"), _flag(corrections, "corrections")
    documents = _selected_documents(ids)
    previous = _previous_rows(documents) if corrections else {}
    found = _fetch_for_export(client, documents)
    lookups = workbook.Lookups.of(
        ledger_accounts=client.ledger_accounts(),
        tax_rates=client.tax_rates(),
        link_for=lambda moneybird_id: document_url(client.administration_id, moneybird_id),
    )
    rows: list[list] = []
    kept: dict[int, list[list]] = {}  # the document's own rows in this file, by document pk
    deleted_rows = []
    for doc in documents:
        current = (
            workbook.document_rows(*found[doc.moneybird_id], lookups) if doc.moneybird_id in found else None
        )
        if corrections and doc.pk in previous:
            name, earlier = previous[doc.pk]
            rows.extend(workbook.reversal(earlier, of_file=name))
            rows.extend(workbook.marked(current or [], "current"))
            kept[doc.pk] = current or []
        elif current is not None:
            rows.extend(current)
            kept[doc.pk] = current
        else:
            last = doc.last_export.name if doc.last_export_id else None
            deleted_rows.append(
                workbook.deleted_row(workbook.DeletedDocument(doc.moneybird_id, doc.type, last))
            )
    rows.extend(deleted_rows)
    content = workbook.xlsx_bytes(rows)
    linked = [doc for doc in documents if doc.pk in kept]
    written = None
    try:
        with transaction.atomic():
            export = _new_export_file(
                ext=ext, no_log=no_log, user=user, documents=len(linked), rows=len(rows)
            )
            ExportedDocument.objects.bulk_create(
                [
                    ExportedDocument(
                        export_file=export,
                        document=doc,
                        rows=[workbook.encode_row(row) for row in kept[doc.pk]],
                    )
                    for doc in linked
                ],
                batch_size=BATCH_SIZE,
            )
            if not no_log:
                Document.objects.filter(pk__in=[doc.pk for doc in linked]).update(last_export=export)
                Mutation.objects.filter(document__in=linked, cleared_at__isnull=True).update(
                    cleared_at=timezone.now(), cleared_by=export
                )
            written = export.storage_key  # before the write: a failed write may leave part of a file
            storage.save(export.storage_key, content)
            publish_summary()
    except Exception:
        if written:
            _discard(written)
        raise
    logger.info("Export %s: %d documents, %d rows", export.name, len(linked), len(rows))
    return export


def _discard(key: str) -> None:
    """Best-effort removal of a file whose export was rolled back; the original error is what counts."""
    try:
        storage.delete(key)
    except storage.Unavailable:
        logger.warning("Could not remove %s after a failed export; it is not listed anywhere", key)


def _new_export_file(
    *, ext: str, no_log: bool, user: AbstractBaseUser | None, documents: int, rows: int
) -> ExportFile:
    """Create the ExportFile row; a name already taken moves on to the next free second."""
    moment = timezone.localtime()
    while True:
        names = [
            export_name(
                stamp=(moment + timedelta(seconds=step)).strftime(STAMP_FORMAT), ext=ext, no_log=no_log
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
            raise NotFound(f"No export file named {filename!r}", code="export_not_found")
        export = ExportFile.objects.select_for_update().get(pk=export.pk)
        export.links.all().delete()
        # As in the original: no fileName until the document is exported again (no fallback to an
        # earlier export), so it shows as not exported.
        Document.objects.filter(last_export=export).update(last_export=None)
        export.deleted, export.deleted_at = True, timezone.now()
        export.save(update_fields=["deleted", "deleted_at"])
        # Deleting first keeps a retry possible: a missing object deletes without error.
        storage.delete(export.storage_key)
        publish_summary()
    return export


def store_public_file(*, filename: object, content: bytes) -> str:
    """Write a file in the public exports area (unsafe: may overwrite official files)."""
    key = files.storage_key(filename)
    storage.save(key, content)
    return key


def delete_public_file(*, filename: object) -> str:
    """Delete a file of the public exports area (unsafe: may delete official files)."""
    key = files.storage_key(filename)
    if not storage.exists(key):
        raise NotFound(f"No file named {filename!r}", code="file_not_found")
    storage.delete(key)
    return key
