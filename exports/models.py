"""Moneybird documents as last synced, the xlsx export files made from them, and the mutations of
exported documents since their last export."""

from django.conf import settings
from django.db import models


class DocumentType(models.TextChoices):
    PURCHASE_INVOICE = "purchase_invoice", "purchase invoice"
    RECEIPT = "receipt", "receipt"


class Document(models.Model):
    """A purchase invoice or receipt as Moneybird last showed it (`raw` is the whole record)."""

    # Moneybird's own states; kept as free text because Moneybird may add states.
    DRAFT_STATE = "new"

    moneybird_id = models.CharField(max_length=32, unique=True)
    type = models.CharField(max_length=20, choices=DocumentType.choices)
    version = models.BigIntegerField()
    create_date = models.DateTimeField(null=True, blank=True, help_text="Moneybird created_at.")
    invoice_date = models.DateField(null=True, blank=True, help_text="Moneybird date.")
    status = models.CharField(max_length=30, db_index=True, help_text="Moneybird state.")
    contact = models.CharField(max_length=255, blank=True, help_text="Contact company name.")
    reference = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total_excl_tax = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    total_incl_tax = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(help_text="When this version was stored.")
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the document disappeared from Moneybird (kept for history)."
    )
    # The original's `fileName`: the latest logged export holding the document, cleared (not moved back
    # to an earlier export) when that export is deleted.
    last_export = models.ForeignKey(
        "ExportFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
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

    name = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ext = models.CharField(max_length=50, blank=True, help_text="Extension added to the file name.")
    no_log = models.BooleanField(default=False)
    document_count = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    storage_key = models.CharField(max_length=500)
    deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    documents = models.ManyToManyField(Document, through="ExportedDocument", related_name="export_files")

    class Meta:
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

    export_file = models.ForeignKey(ExportFile, on_delete=models.CASCADE, related_name="links")
    # History of exports must survive; a document with exports is never deleted.
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="export_links")
    # The document's rows as written in this file (JSON-encoded by exports.workbook), so a later
    # corrections export can reverse exactly what was booked.
    rows = models.JSONField(null=True, blank=True, help_text="None for exports made before rows were kept.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export_file", "document"], name="exports_document_once_per_file")
        ]

    def __str__(self) -> str:
        return f"{self.document} in {self.export_file}"


class MutationField(models.TextChoices):
    STATUS = "status"
    INVOICE_DATE = "invoiceDate"
    TYPE = "type"
    OTHER = "other"
    TOTAL = "total"
    TAX = "tax"
    DETAIL_AMOUNT = "detailAmount"
    LEDGER_ACCOUNT = "ledgerAccount"
    TAX_RATE = "taxRate"
    DELETED = "deleted"


class Mutation(models.Model):
    """A change Moneybird made to an already exported document; cleared by its next logged export."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="mutations")
    field_name = models.CharField(max_length=20, choices=MutationField.choices)
    detail = models.CharField(max_length=64, blank=True, help_text="Moneybird detail id, for detail fields.")
    old_value = models.CharField(max_length=255, blank=True)
    new_value = models.CharField(max_length=255, blank=True)
    detected_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        ExportFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="cleared_mutations"
    )

    class Meta:
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
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Documents to fetch from Moneybird.")
    processed = models.PositiveIntegerField(default=0, help_text="Documents fetched so far.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    mutations = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    partial = models.BooleanField(default=False, help_text="Only the ids named by webhook calls.")

    class Meta:
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
    moneybird_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    token = models.CharField(
        max_length=255, blank=True, help_text="Sent by Moneybird in every call (webhook_token)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"webhook {self.moneybird_id} → {self.url}"


class PendingSync(models.Model):
    """A document a webhook call named, waiting for the debounced sync of just those ids."""

    moneybird_id = models.CharField(max_length=32, unique=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at"]

    def __str__(self) -> str:
        return self.moneybird_id
