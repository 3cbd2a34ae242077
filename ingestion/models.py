"""Invoice files received from the customer, their lines, categories and the known-invoices relation."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ingestion.texts import CATALOGUE, poll_summary


class Category(models.Model):
    """A product category; `key` is the normalised spelling, `name` the first spelling seen."""

    key = models.CharField(max_length=100, unique=True, verbose_name=_("key"))
    name = models.CharField(max_length=100, verbose_name=_("name"))

    class Meta:
        verbose_name = _("category")
        ordering = ["key"]
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class InvoiceFile(models.Model):
    """One received `Letture…` file: imported with its lines, or not imported with the reason.

    Every file that reaches us is recorded, so the day it belongs to counts as received: a copy of
    an earlier file under a new name is a `duplicate` pointing at the original, and a file of a
    day whose session is closed is archived as `closed_day` and never imported.
    """

    class Source(models.TextChoices):
        FTP = "ftp", _("FTP")
        MANUAL = "manual", _("Manual upload")

    class Status(models.TextChoices):
        IMPORTED = "imported", _("Imported")
        REJECTED = "rejected", _("Rejected")
        DUPLICATE = "duplicate", _("Duplicate")
        CLOSED_DAY = "closed_day", _("day already closed")

    name = models.CharField(max_length=255, unique=True, verbose_name=_("name"))
    sha256 = models.CharField(max_length=64, verbose_name=_("sha256"))
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        help_text=_("The earlier file with the same bytes."),
        verbose_name=_("duplicate of"),
    )
    late = models.BooleanField(
        default=False,
        help_text=_("Received after its own day (e.g. after Friday's last poll)."),
        verbose_name=_("late"),
    )
    source = models.CharField(max_length=10, choices=Source.choices, verbose_name=_("source"))
    status = models.CharField(max_length=10, choices=Status.choices, verbose_name=_("status"))
    business_date = models.DateField(
        help_text=_("The date in the file name's timestamp."), verbose_name=_("business date")
    )
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    currency = models.CharField(
        max_length=3, default="EUR", help_text=_("Currency of the line values."), verbose_name=_("currency")
    )
    declared_records = models.PositiveIntegerField(
        help_text=_("N + 1, from the file name."), verbose_name=_("declared records")
    )
    records = models.PositiveIntegerField(
        help_text=_("Records actually in the file."), verbose_name=_("records")
    )
    imported_count = models.PositiveIntegerField(default=0, verbose_name=_("imported count"))
    ignored_count = models.PositiveIntegerField(default=0, verbose_name=_("ignored count"))
    invalid_count = models.PositiveIntegerField(default=0, verbose_name=_("invalid count"))
    found_count = models.PositiveIntegerField(default=0, verbose_name=_("found count"))
    not_found_count = models.PositiveIntegerField(default=0, verbose_name=_("not found count"))
    past_count = models.PositiveIntegerField(default=0, verbose_name=_("past count"))
    invalid_lines = models.JSONField(
        default=list,
        blank=True,
        help_text=_('[{"line": n, "reason": text}]'),
        verbose_name=_("invalid lines"),
    )
    reason = models.TextField(blank=True, help_text=_("Why the file was rejected."), verbose_name=_("reason"))
    # The reason as a code with parameters (ingestion.texts), shown in the reader's language.
    reason_code = models.CharField(max_length=40, blank=True, default="", verbose_name=_("reason code"))
    reason_params = models.JSONField(default=dict, blank=True, verbose_name=_("reason parameters"))
    archive_path = models.CharField(
        max_length=500,
        help_text=_("Key of the archived copy in the storage."),
        verbose_name=_("archive path"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    imported_at = models.DateTimeField(null=True, blank=True, verbose_name=_("imported at"))
    checked_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last known-invoice lookup."), verbose_name=_("checked at")
    )

    class Meta:
        verbose_name = _("invoice file")
        verbose_name_plural = _("invoice files")
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

    @property
    def reason_text(self) -> str:
        """Why the file was not imported, in the active language."""
        return CATALOGUE.render(self.reason_code, self.reason_params, self.reason)


class InvoiceLine(models.Model):
    """An imported record of a file; `description` is kept exactly as received."""

    class LookupStatus(models.TextChoices):
        FOUND = "found", _("Found")
        PAST = "past", _("Past")
        NOT_FOUND = "not_found", _("not found")

    # The (file, line_number) unique index also serves lookups by file, so the FK needs no own index.
    file = models.ForeignKey(
        InvoiceFile,
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,
        db_constraint=False,
        verbose_name=_("file"),
    )
    line_number = models.PositiveIntegerField(verbose_name=_("line number"))
    invoice_number = models.CharField(max_length=9, verbose_name=_("invoice number"))
    quantity = models.IntegerField(verbose_name=_("quantity"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    value = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("value"))
    lookup_status = models.CharField(
        max_length=10, choices=LookupStatus.choices, verbose_name=_("lookup status")
    )
    categories = models.ManyToManyField(
        Category,
        through="InvoiceLineCategory",
        related_name="lines",
        blank=True,
        verbose_name=_("categories"),
    )

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
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
    line = models.ForeignKey(
        InvoiceLine, on_delete=models.CASCADE, db_index=False, db_constraint=False, verbose_name=_("line")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, db_index=False, db_constraint=False, verbose_name=_("category")
    )

    class Meta:
        verbose_name = _("invoice line category")
        verbose_name_plural = _("invoice line categories")

    def __str__(self) -> str:
        return f"{self.line_id} → {self.category_id}"


class NoFileAlert(models.Model):
    """Records that the "no file today" alert went out, so it is sent once per day."""

    day = models.DateField(unique=True, verbose_name=_("day"))
    sent_at = models.DateTimeField(auto_now_add=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("no file alert")
        verbose_name_plural = _("no file alerts")

    def __str__(self) -> str:
        return f"no-file alert {self.day}"


class ClosedDay(models.Model):
    """A day whose shipping session is closed: files of that day arriving later are not imported.

    Written by the sessions app when it closes a session; kept here so ingestion never imports it.
    """

    day = models.DateField(unique=True, verbose_name=_("day"))
    closed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("closed at"))

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")

    def __str__(self) -> str:
        return f"closed {self.day}"


class FtpPoll(models.Model):
    """One check of the inbound FTP server (scheduled, at start-up or asked for by an operator)."""

    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(verbose_name=_("finished at"))
    succeeded = models.BooleanField(
        help_text=_("The server was reached and listed."), verbose_name=_("succeeded")
    )
    summary = models.TextField(blank=True, verbose_name=_("summary"))  # in English
    details = models.JSONField(
        blank=True, default=dict, verbose_name=_("details")
    )  # what the summary says, as data (ingestion.texts.poll_summary)

    class Meta:
        verbose_name = _("ftp poll")
        verbose_name_plural = _("ftp polls")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["succeeded", "-started_at"])]

    def __str__(self) -> str:
        return f"FTP poll {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def summary_text(self) -> str:
        """What the poll did, in the active language (a poll recorded before details: as stored)."""
        return poll_summary(self.details) if self.details else self.summary


def _optional_text(max_length: int, verbose_name: str) -> models.CharField:
    # The customer's view returns NULL for missing data, so these columns are nullable on purpose.
    return models.CharField(max_length=max_length, null=True, blank=True, verbose_name=verbose_name)


class KnownInvoice(models.Model):
    """Read-only invoices of the customer's ERP (a view in production, a plain table in demo/tests)."""

    invoice_number = models.CharField(max_length=9, primary_key=True, verbose_name=_("invoice number"))
    invoice_date = models.DateField(verbose_name=_("invoice date"))
    customer_code = _optional_text(50, _("customer code"))
    customer_name = _optional_text(200, _("customer name"))
    address = _optional_text(300, _("address"))
    postcode = _optional_text(20, _("postcode"))
    city = _optional_text(100, _("city"))
    province = _optional_text(50, _("province"))
    country = _optional_text(50, _("country"))
    weight_kg = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True, verbose_name=_("weight kg")
    )
    parcels = models.IntegerField(null=True, blank=True, verbose_name=_("parcels"))

    class Meta:
        verbose_name = _("known invoice")
        verbose_name_plural = _("known invoices")
        managed = False
        db_table = settings.KNOWN_INVOICES_RELATION
        ordering = ["invoice_number"]

    def __str__(self) -> str:
        return self.invoice_number


class ImportProgress(models.Model):
    """A file being imported right now: written outside the import's transaction (see
    `ingestion.progress`), so it is visible while the import runs; removed when the import ends."""

    name = models.CharField(max_length=255, unique=True, verbose_name=_("name"))
    processed = models.PositiveIntegerField(
        default=0, help_text=_("Records parsed so far."), verbose_name=_("processed")
    )
    total = models.PositiveIntegerField(help_text=_("Records in the file."), verbose_name=_("total"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("import progress")
        ordering = ["started_at"]
        verbose_name_plural = _("imports in progress")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processed__lte=models.F("total")), name="ingestion_progress_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.processed}/{self.total}"
