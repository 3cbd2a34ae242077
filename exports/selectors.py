"""Read operations of the exports app: the public summary list and the page's lists."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from exports.models import (
    Document,
    DocumentType,
    ExportedDocument,
    ExportFile,
    Mutation,
    MutationField,
    SyncRun,
    state_label,
)

DELETED_STATUS = "deleted"
# A sync still "running" after this long died with its process; the page stops showing it.
RUNNING_SYNC_HORIZON = timedelta(hours=1)


def _iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def listed_documents() -> QuerySet[Document]:
    """Documents that belong in the summary: not drafts; those deleted in Moneybird stay, as deleted."""
    return Document.objects.exclude(status=Document.DRAFT_STATE)


def summary_list() -> list[dict]:
    """incoming-summary-list.json: one entry per listed document, in three queries."""
    documents = list(listed_documents().select_related("last_export").order_by("create_date", "moneybird_id"))
    ids = [document.pk for document in documents]
    files: dict[int, list[str]] = defaultdict(list)
    links = (
        ExportedDocument.objects.filter(document_id__in=ids, export_file__deleted=False)
        .order_by("export_file__created", "export_file_id")
        .values_list("document_id", "export_file__name")
    )
    for document_id, name in links:
        files[document_id].append(name)
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
            "status": DELETED_STATUS if document.removed_at else document.status,
        }
        if document.removed_at:
            entry["deletedAt"] = _iso_utc(document.removed_at)
        if document.last_export is not None:
            entry["fileName"] = document.last_export.name
        entry["allFiles"] = files[document.pk]
        entry["mutations"] = mutations[document.pk]
        entries.append(entry)
    return entries


def mutation_entry(mutation: Mutation) -> dict:
    """{fieldName, [detail,] oldValue, newValue}: the new type alone for a type change, the field name
    alone for "other" (as the original recorded them), both values for everything else; `detail`
    names the detail line of detailAmount, ledgerAccount and taxRate changes."""
    entry: dict = {"fieldName": mutation.field_name}
    if mutation.detail:
        entry["detail"] = mutation.detail
    if mutation.field_name not in (MutationField.TYPE, MutationField.OTHER):
        entry["oldValue"] = mutation.old_value or None
    if mutation.field_name != MutationField.OTHER:
        entry["newValue"] = mutation.new_value or None
    return entry


def last_sync() -> datetime | None:
    """When the last full sync succeeded (changes or not), or None before the first."""
    return (
        SyncRun.objects.filter(status=SyncRun.Status.DONE, partial=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def latest_sync() -> SyncRun | None:
    return SyncRun.objects.order_by("-started_at", "-id").first()


def running_sync() -> SyncRun | None:
    """The sync fetching documents right now, for its progress (fetched n of total)."""
    return (
        SyncRun.objects.filter(
            status=SyncRun.Status.RUNNING, started_at__gte=timezone.now() - RUNNING_SYNC_HORIZON
        )
        .order_by("-started_at")
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
    """Listed documents still in Moneybird without a live logged export, narrowed by the page's filters."""
    documents = listed_documents().filter(removed_at__isnull=True, last_export__isnull=True)
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
    """Exported documents with mutations since their last logged export (`open_mutations` attached);
    documents deleted in Moneybird included."""
    return (
        listed_documents()
        .filter(Exists(open_mutations().filter(document=OuterRef("pk"))), last_export__isnull=False)
        .prefetch_related(Prefetch("mutations", queryset=open_mutations(), to_attr="open_mutations"))
        .order_by("create_date", "moneybird_id")
    )


def change_descriptions(document: Document) -> list[str]:
    """The open mutations of a document from `mutated_documents` in words, lines numbered as in
    Moneybird (e.g. "line 1 amount 249.90 → 349.90 EUR")."""
    lines = {str(line.get("id")): n for n, line in enumerate(document.raw.get("details") or [], start=1)}
    return [
        _describe(mutation, lines.get(mutation.detail), document.currency)
        for mutation in document.open_mutations
    ]


def _describe(mutation: Mutation, line: int | None, currency: str) -> str:
    # A line the latest record no longer has (removed after this change) has no number any more.
    values = {"old": mutation.old_value, "new": mutation.new_value, "line": line or "?", "currency": currency}
    field = mutation.field_name
    if field == MutationField.STATUS:
        values |= {"old": state_label(mutation.old_value), "new": state_label(mutation.new_value)}
    elif field == MutationField.TYPE:
        values["new"] = (
            DocumentType(mutation.new_value).label
            if mutation.new_value in DocumentType
            else mutation.new_value
        )
    if field == MutationField.DETAIL_AMOUNT and not mutation.new_value:
        return _("a line was removed (amount %(old)s %(currency)s)") % values
    if field == MutationField.DETAIL_AMOUNT and not mutation.old_value:
        return _("line %(line)s added (amount %(new)s %(currency)s)") % values
    texts = {
        MutationField.STATUS: _("status %(old)s → %(new)s"),
        MutationField.INVOICE_DATE: _("invoice date %(old)s → %(new)s"),
        MutationField.TYPE: _("type changed to %(new)s"),
        MutationField.OTHER: _("changed in Moneybird (not its amounts, dates or status)"),
        MutationField.TOTAL: _("total %(old)s → %(new)s %(currency)s"),
        MutationField.TAX: _("tax %(old)s → %(new)s %(currency)s"),
        MutationField.DETAIL_AMOUNT: _("line %(line)s amount %(old)s → %(new)s %(currency)s"),
        MutationField.LEDGER_ACCOUNT: _("line %(line)s ledger account %(old)s → %(new)s"),
        MutationField.TAX_RATE: _("line %(line)s tax rate %(old)s → %(new)s"),
        MutationField.DELETED: _("deleted in Moneybird"),
    }
    return texts[field] % values


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
    documents = listed_documents().filter(removed_at__isnull=True)
    return list(documents.order_by("status").values_list("status", flat=True).distinct())


def deleted_documents() -> QuerySet[Document]:
    """Documents gone from Moneybird (kept, with the time it was noticed), newest first."""
    return (
        listed_documents()
        .filter(removed_at__isnull=False)
        .select_related("last_export")
        .order_by("-removed_at")
    )


def demo_documents() -> QuerySet[Document]:
    """Documents the demo page's buttons can change in the demo Moneybird."""
    return Document.objects.filter(removed_at__isnull=True).order_by("moneybird_id")
