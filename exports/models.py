"""Moneybird documents as last synced, the xlsx export files made from them, and the mutations of
exported documents since their last export."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentType(models.TextChoices):
    PURCHASE_INVOICE = "purchase_invoice", _("purchase invoice")
    RECEIPT = "receipt", _("receipt")


# Moneybird's document states as staff read them (`Document.status` keeps Moneybird's own word).
MONEYBIRD_STATES = {
    "new": _("draft"),
    "open": _("open"),
    "late": _("late"),
    "paid": _("paid"),
    "pending_payment": _("pending payment"),
    "saved": _("saved"),
    "reminded": _("reminded"),
    "scheduled": _("scheduled"),
    "uncollectible": _("uncollectible"),
    "processing": _("processing"),
}


def state_label(state: str) -> str:
    """A state Moneybird adds later shows as it comes."""
    return str(MONEYBIRD_STATES.get(state, state))


class Document(models.Model):
    """A purchase invoice or receipt as Moneybird last showed it (`raw` is the whole record)."""

    # Moneybird's own states; kept as free text because Moneybird may add states.
    DRAFT_STATE = "new"

    moneybird_id = models.CharField(max_length=32, unique=True, verbose_name=_("moneybird id"))
    type = models.CharField(max_length=20, choices=DocumentType.choices, verbose_name=_("type"))
    version = models.BigIntegerField(verbose_name=_("version"))
    create_date = models.DateTimeField(
        null=True, blank=True, help_text=_("Moneybird created_at."), verbose_name=_("create date")
    )
    invoice_date = models.DateField(
        null=True, blank=True, help_text=_("Moneybird date."), verbose_name=_("invoice date")
    )
    status = models.CharField(
        max_length=30, db_index=True, help_text=_("Moneybird state."), verbose_name=_("status")
    )
    contact = models.CharField(
        max_length=255, blank=True, help_text=_("Contact company name."), verbose_name=_("contact")
    )
    reference = models.CharField(max_length=255, blank=True, verbose_name=_("reference"))
    currency = models.CharField(max_length=3, blank=True, verbose_name=_("currency"))
    total_excl_tax = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("total excl tax")
    )
    total_incl_tax = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, verbose_name=_("total incl tax")
    )
    raw = models.JSONField(default=dict, blank=True, verbose_name=_("raw"))
    synced_at = models.DateTimeField(
        help_text=_("When this version was stored."), verbose_name=_("synced at")
    )
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the document disappeared from Moneybird (kept for history)."),
        verbose_name=_("removed at"),
    )
    # The original's `fileName`: the latest logged export holding the document, cleared (not moved back
    # to an earlier export) when that export is deleted.
    last_export = models.ForeignKey(
        "ExportFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last export"),
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-create_date", "moneybird_id"]
        indexes = [models.Index(fields=["invoice_date"]), models.Index(fields=["create_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=DocumentType.values), name="exports_document_type"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=0), name="exports_document_version"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.moneybird_id}"


class ExportFile(models.Model):
    """An xlsx file built from selected documents; `no_log` files leave the export state alone."""

    name = models.CharField(max_length=255, verbose_name=_("name"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    ext = models.CharField(
        max_length=50, blank=True, help_text=_("Extension added to the file name."), verbose_name=_("ext")
    )
    no_log = models.BooleanField(default=False, verbose_name=_("no log"))
    document_count = models.PositiveIntegerField(default=0, verbose_name=_("document count"))
    row_count = models.PositiveIntegerField(default=0, verbose_name=_("row count"))
    storage_key = models.CharField(max_length=500, verbose_name=_("storage key"))
    deleted = models.BooleanField(default=False, verbose_name=_("deleted"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))
    documents = models.ManyToManyField(
        Document, through="ExportedDocument", related_name="export_files", verbose_name=_("documents")
    )

    class Meta:
        verbose_name = _("export file")
        verbose_name_plural = _("export files")
        ordering = ["-created", "-id"]
        constraints = [
            # A deleted export's name may be reused; two live exports never share one.
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(deleted=False), name="exports_live_export_name"
            ),
            models.CheckConstraint(
                condition=models.Q(deleted=False) | models.Q(deleted_at__isnull=False),
                name="exports_deleted_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExportedDocument(models.Model):
    """Document `document` is in export file `export_file` (removed when the export is deleted)."""

    export_file = models.ForeignKey(
        ExportFile, on_delete=models.CASCADE, related_name="links", verbose_name=_("export file")
    )
    # History of exports must survive; a document with exports is never deleted.
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="export_links", verbose_name=_("document")
    )
    # The document's rows as written in this file (JSON-encoded by exports.workbook), so a later
    # corrections export can reverse exactly what was booked.
    rows = models.JSONField(
        null=True,
        blank=True,
        help_text=_("None for exports made before rows were kept."),
        verbose_name=_("rows"),
    )

    class Meta:
        verbose_name = _("exported document")
        verbose_name_plural = _("exported documents")
        constraints = [
            models.UniqueConstraint(fields=["export_file", "document"], name="exports_document_once_per_file")
        ]

    def __str__(self) -> str:
        return f"{self.document} in {self.export_file}"


class MutationField(models.TextChoices):
    STATUS = "status", _("Status")
    INVOICE_DATE = "invoiceDate", _("Invoice date")
    TYPE = "type", _("Type")
    OTHER = "other", _("Other")
    TOTAL = "total", _("Total")
    TAX = "tax", _("Tax")
    DETAIL_AMOUNT = "detailAmount", _("Detail amount")
    LEDGER_ACCOUNT = "ledgerAccount", _("Ledger account")
    TAX_RATE = "taxRate", _("Tax rate")
    DELETED = "deleted", _("Deleted")


class Mutation(models.Model):
    """A change Moneybird made to an already exported document; cleared by its next logged export."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="mutations", verbose_name=_("document")
    )
    field_name = models.CharField(max_length=20, choices=MutationField.choices, verbose_name=_("field name"))
    detail = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("Moneybird detail id, for detail fields."),
        verbose_name=_("detail"),
    )
    old_value = models.CharField(max_length=255, blank=True, verbose_name=_("old value"))
    new_value = models.CharField(max_length=255, blank=True, verbose_name=_("new value"))
    detected_at = models.DateTimeField(verbose_name=_("detected at"))
    cleared_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cleared at"))
    cleared_by = models.ForeignKey(
        ExportFile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cleared_mutations",
        verbose_name=_("cleared by"),
    )

    class Meta:
        verbose_name = _("mutation")
        verbose_name_plural = _("mutations")
        ordering = ["detected_at", "id"]
        indexes = [models.Index(fields=["document", "cleared_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(field_name__in=MutationField.values), name="exports_mutation_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document}: {self.field_name}"


class SyncRun(models.Model):
    """One sync with its progress and outcome; the last successful full one is the API's syncDate."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING, verbose_name=_("status")
    )
    started_at = models.DateTimeField(auto_now_add=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    total = models.PositiveIntegerField(
        default=0, help_text=_("Documents to fetch from Moneybird."), verbose_name=_("total")
    )
    processed = models.PositiveIntegerField(
        default=0, help_text=_("Documents fetched so far."), verbose_name=_("processed")
    )
    created = models.PositiveIntegerField(default=0, verbose_name=_("created"))
    updated = models.PositiveIntegerField(default=0, verbose_name=_("updated"))
    removed = models.PositiveIntegerField(default=0, verbose_name=_("removed"))
    mutations = models.PositiveIntegerField(default=0, verbose_name=_("mutations"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    partial = models.BooleanField(
        default=False, help_text=_("Only the ids named by webhook calls."), verbose_name=_("partial")
    )

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="running") | models.Q(finished_at__isnull=False),
                name="exports_finished_sync_has_date",
            ),
            models.CheckConstraint(
                condition=models.Q(processed__lte=models.F("total")), name="exports_sync_progress"
            ),
        ]

    def __str__(self) -> str:
        return f"sync {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status})"


class Webhook(models.Model):
    """A webhook registered at Moneybird; calls to /api/exports/webhook/ must carry its token."""

    # None while the registration is under way: Moneybird checks the URL before it answers with the
    # webhook's id and token.
    moneybird_id = models.CharField(
        max_length=32, unique=True, null=True, blank=True, verbose_name=_("moneybird id")
    )
    url = models.URLField(max_length=500, verbose_name=_("url"))
    events = models.JSONField(default=list, verbose_name=_("events"))
    token = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Sent by Moneybird in every call (webhook_token)."),
        verbose_name=_("token"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return f"webhook {self.moneybird_id} → {self.url}"


class PendingSync(models.Model):
    """A document a webhook call named, waiting for the debounced sync of just those ids."""

    moneybird_id = models.CharField(max_length=32, unique=True, verbose_name=_("moneybird id"))
    received_at = models.DateTimeField(verbose_name=_("received at"))

    class Meta:
        verbose_name = _("pending sync")
        verbose_name_plural = _("pending syncs")
        ordering = ["received_at"]

    def __str__(self) -> str:
        return self.moneybird_id
