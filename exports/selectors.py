"""Read operations of the exports app: the public summary list and the page's lists."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from exports.models import Document, ExportedDocument, ExportFile, Mutation, MutationField, SyncRun


def _iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def logged_export_exists() -> Exists:
    """Whether the outer Document is in a live logged export (the original's `fileName`)."""
    return Exists(
        ExportedDocument.objects.filter(
            document=OuterRef("pk"), export_file__no_log=False, export_file__deleted=False
        )
    )


def listed_documents() -> QuerySet[Document]:
    """Documents that belong in the summary: still in Moneybird and not a draft."""
    return Document.objects.filter(removed_at__isnull=True).exclude(status=Document.DRAFT_STATE)


def summary_list() -> list[dict]:
    """incoming-summary-list.json: one entry per listed document, in three queries."""
    documents = list(listed_documents().order_by("create_date", "moneybird_id"))
    ids = [document.pk for document in documents]
    files: dict[int, list[str]] = defaultdict(list)
    latest_logged: dict[int, str] = {}
    links = (
        ExportedDocument.objects.filter(document_id__in=ids, export_file__deleted=False)
        .order_by("export_file__created", "export_file_id")
        .values_list("document_id", "export_file__name", "export_file__no_log")
    )
    for document_id, name, no_log in links:
        files[document_id].append(name)
        if not no_log:
            latest_logged[document_id] = name
    mutations: dict[int, list[dict]] = defaultdict(list)
    for mutation in Mutation.objects.filter(document_id__in=ids, cleared_at__isnull=True):
        mutations[mutation.document_id].append(mutation_entry(mutation))
    entries = []
    for document in documents:
        entry = {
            "id": document.moneybird_id,
            "type": document.type,
            "createDate": _iso_utc(document.create_date),
            "invoiceDate": document.invoice_date.isoformat() if document.invoice_date else None,
            "status": document.status,
        }
        if document.pk in latest_logged:
            entry["fileName"] = latest_logged[document.pk]
        entry["allFiles"] = files[document.pk]
        entry["mutations"] = mutations[document.pk]
        entries.append(entry)
    return entries


def mutation_entry(mutation: Mutation) -> dict:
    """{fieldName, oldValue, newValue}: both values for status and invoiceDate, the new type for a
    type change, the field name alone for "other" (as the original recorded them)."""
    entry: dict = {"fieldName": mutation.field_name}
    if mutation.field_name in (MutationField.STATUS, MutationField.INVOICE_DATE):
        entry["oldValue"] = mutation.old_value or None
    if mutation.field_name != MutationField.OTHER:
        entry["newValue"] = mutation.new_value or None
    return entry


def last_sync() -> datetime | None:
    """When a sync last changed the stored documents, or None before the first."""
    return (
        SyncRun.objects.filter(status=SyncRun.Status.DONE)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def sync_date() -> str | None:
    """last_sync() as the API's `syncDate` (ISO 8601, UTC)."""
    return _iso_utc(last_sync())


@dataclass(frozen=True)
class DocumentFilters:
    created_from: date | None = None
    created_to: date | None = None
    invoice_from: date | None = None
    invoice_to: date | None = None
    type: str = ""
    status: str = ""


def not_exported_documents(filters: DocumentFilters = DocumentFilters()) -> QuerySet[Document]:
    """Listed documents in no live logged export, narrowed by the page's filters."""
    documents = listed_documents().filter(~logged_export_exists())
    if filters.created_from:
        documents = documents.filter(create_date__date__gte=filters.created_from)
    if filters.created_to:
        documents = documents.filter(create_date__date__lte=filters.created_to)
    if filters.invoice_from:
        documents = documents.filter(invoice_date__gte=filters.invoice_from)
    if filters.invoice_to:
        documents = documents.filter(invoice_date__lte=filters.invoice_to)
    if filters.type:
        documents = documents.filter(type=filters.type)
    if filters.status:
        documents = documents.filter(status=filters.status)
    return documents.order_by("create_date", "moneybird_id")


def document_ranges(documents: QuerySet[Document]) -> dict:
    """Count and created/invoice date ranges of `documents`."""
    return documents.aggregate(
        count=Count("pk"),
        created_from=Min("create_date"),
        created_to=Max("create_date"),
        invoice_from=Min("invoice_date"),
        invoice_to=Max("invoice_date"),
    )


def open_mutations() -> QuerySet[Mutation]:
    return Mutation.objects.filter(cleared_at__isnull=True)


def mutated_documents() -> QuerySet[Document]:
    """Exported documents with mutations since their last logged export (`open_mutations` attached)."""
    return (
        listed_documents()
        .filter(logged_export_exists(), Exists(open_mutations().filter(document=OuterRef("pk"))))
        .prefetch_related(Prefetch("mutations", queryset=open_mutations(), to_attr="open_mutations"))
        .order_by("create_date", "moneybird_id")
    )


def export_files() -> QuerySet[ExportFile]:
    """Live export files with their summary: documents, mutated since export, date ranges."""
    mutated_since = (
        ExportedDocument.objects.filter(export_file=OuterRef("pk"))
        .filter(
            Exists(
                open_mutations().filter(
                    document=OuterRef("document"), detected_at__gt=OuterRef(OuterRef("created"))
                )
            )
        )
        .values("export_file")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        ExportFile.objects.filter(deleted=False)
        .annotate(
            mutated=Coalesce(Subquery(mutated_since), 0),
            created_from=Min("links__document__create_date"),
            created_to=Max("links__document__create_date"),
            invoice_from=Min("links__document__invoice_date"),
            invoice_to=Max("links__document__invoice_date"),
        )
        .order_by("-created", "-id")
    )


def live_export(name: str) -> ExportFile | None:
    return ExportFile.objects.filter(name=name, deleted=False).first()


def document_status_choices() -> list[str]:
    return list(listed_documents().order_by("status").values_list("status", flat=True).distinct())
