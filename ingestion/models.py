"""Invoice files received from the customer, their lines, categories and the known-invoices relation."""

from django.conf import settings
from django.db import models


class Category(models.Model):
    """A product category; `key` is the normalised spelling, `name` the first spelling seen."""

    key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class InvoiceFile(models.Model):
    """One received `Letture…` file: imported with its lines, or not imported with the reason.

    Every file that reaches us is recorded, so the day it belongs to counts as received: a copy of
    an earlier file under a new name is a `duplicate` pointing at the original, and a file of a
    day whose session is closed is archived as `closed_day` and never imported.
    """

    class Source(models.TextChoices):
        FTP = "ftp", "FTP"
        MANUAL = "manual", "Manual upload"

    class Status(models.TextChoices):
        IMPORTED = "imported"
        REJECTED = "rejected"
        DUPLICATE = "duplicate"
        CLOSED_DAY = "closed_day", "day already closed"

    name = models.CharField(max_length=255, unique=True)
    sha256 = models.CharField(max_length=64)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        help_text="The earlier file with the same bytes.",
    )
    late = models.BooleanField(
        default=False, help_text="Received after its own day (e.g. after Friday's last poll)."
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    business_date = models.DateField(help_text="The date in the file name's timestamp.")
    size = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="EUR", help_text="Currency of the line values.")
    declared_records = models.PositiveIntegerField(help_text="N + 1, from the file name.")
    records = models.PositiveIntegerField(help_text="Records actually in the file.")
    imported_count = models.PositiveIntegerField(default=0)
    ignored_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    found_count = models.PositiveIntegerField(default=0)
    not_found_count = models.PositiveIntegerField(default=0)
    past_count = models.PositiveIntegerField(default=0)
    invalid_lines = models.JSONField(default=list, blank=True, help_text='[{"line": n, "reason": text}]')
    reason = models.TextField(blank=True, help_text="Why the file was rejected.")
    archive_path = models.CharField(max_length=500, help_text="Key of the archived copy in the storage.")
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last known-invoice lookup.")

    class Meta:
        ordering = ["-business_date", "-created_at"]
        indexes = [models.Index(fields=["business_date", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="imported") | ~models.Q(reason=""),
                name="ingestion_rejected_has_reason",
            ),
            # The same bytes are imported (or rejected) once; later copies are recorded as duplicates.
            models.UniqueConstraint(
                fields=["sha256"], condition=~models.Q(status="duplicate"), name="ingestion_unique_content"
            ),
            models.CheckConstraint(
                condition=models.Q(status="duplicate", duplicate_of__isnull=False)
                | (~models.Q(status="duplicate") & models.Q(duplicate_of__isnull=True)),
                name="ingestion_duplicate_has_original",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InvoiceLine(models.Model):
    """An imported record of a file; `description` is kept exactly as received."""

    class LookupStatus(models.TextChoices):
        FOUND = "found"
        PAST = "past"
        NOT_FOUND = "not_found", "not found"

    # The (file, line_number) unique index also serves lookups by file, so the FK needs no own index.
    file = models.ForeignKey(
        InvoiceFile, on_delete=models.CASCADE, related_name="lines", db_index=False, db_constraint=False
    )
    line_number = models.PositiveIntegerField()
    invoice_number = models.CharField(max_length=9)
    quantity = models.IntegerField()
    description = models.TextField(blank=True)
    value = models.DecimalField(max_digits=14, decimal_places=2)
    lookup_status = models.CharField(max_length=10, choices=LookupStatus.choices)
    categories = models.ManyToManyField(
        Category, through="InvoiceLineCategory", related_name="lines", blank=True
    )

    class Meta:
        ordering = ["file", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["file", "line_number"], name="ingestion_line_unique_per_file"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_number} (line {self.line_number})"


class InvoiceLineCategory(models.Model):
    """Explicit M2M table keyed by (line, category): the one index a bulk load has to maintain.

    No FK constraints in the database (nor on InvoiceLine.file): PostgreSQL checks them row by row
    at commit, which tripled the import time; the loader is the only writer and deletes go
    through the ORM, which cascades.
    """

    pk = models.CompositePrimaryKey("line", "category")
    line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, db_index=False, db_constraint=False)

    def __str__(self) -> str:
        return f"{self.line_id} → {self.category_id}"


class NoFileAlert(models.Model):
    """Records that the "no file today" alert went out, so it is sent once per day."""

    day = models.DateField(unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"no-file alert {self.day}"


class ClosedDay(models.Model):
    """A day whose shipping session is closed: files of that day arriving later are not imported.

    Written by the sessions app when it closes a session; kept here so ingestion never imports it.
    """

    day = models.DateField(unique=True)
    closed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"closed {self.day}"


class FtpPoll(models.Model):
    """One check of the inbound FTP server (scheduled, at start-up or asked for by an operator)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    succeeded = models.BooleanField(help_text="The server was reached and listed.")
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["succeeded", "-started_at"])]

    def __str__(self) -> str:
        return f"FTP poll {self.started_at:%Y-%m-%d %H:%M:%S}"


def _optional_text(max_length: int) -> models.CharField:
    # The customer's view returns NULL for missing data, so these columns are nullable on purpose.
    return models.CharField(max_length=max_length, null=True, blank=True)


class KnownInvoice(models.Model):
    """Read-only invoices of the customer's ERP (a view in production, a plain table in demo/tests)."""

    invoice_number = models.CharField(max_length=9, primary_key=True)
    invoice_date = models.DateField()
    customer_code = _optional_text(50)
    customer_name = _optional_text(200)
    address = _optional_text(300)
    postcode = _optional_text(20)
    city = _optional_text(100)
    province = _optional_text(50)
    country = _optional_text(50)
    weight_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    parcels = models.IntegerField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = settings.KNOWN_INVOICES_RELATION
        ordering = ["invoice_number"]

    def __str__(self) -> str:
        return self.invoice_number


class ImportProgress(models.Model):
    """A file being imported right now: written outside the import's transaction (see
    `ingestion.progress`), so it is visible while the import runs; removed when the import ends."""

    name = models.CharField(max_length=255, unique=True)
    processed = models.PositiveIntegerField(default=0, help_text="Records parsed so far.")
    total = models.PositiveIntegerField(help_text="Records in the file.")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at"]
        verbose_name_plural = "imports in progress"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processed__lte=models.F("total")), name="ingestion_progress_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.processed}/{self.total}"
