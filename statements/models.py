"""Models of the statements app: runs, sales files and their lines, rates, snapshots, webhook nonces."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from statements.cleaners.profiles import BUILTIN_FIXTURE, ProfileSpec

PERIOD_LENGTH = 7  # "YYYY-MM"


class SalesFileStatus(models.TextChoices):
    INITIALIZED = "INITIALIZED"
    UPLOADED = "UPLOADED"
    CLEANING = "CLEANING"
    CLEANED = "CLEANED"
    IMPORTING = "IMPORTING"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"


class StatementRun(models.Model):
    """A statement to produce: its currency, filters and the sales files it reads."""

    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="EUR")
    artists = models.JSONField(default=list, blank=True, help_text="Empty means every artist.")
    dsps = models.JSONField(default=list, blank=True, help_text="Empty means every DSP.")
    periods = models.JSONField(default=list, blank=True, help_text="YYYY-MM list; empty means any.")
    period_from = models.CharField(max_length=PERIOD_LENGTH, blank=True)
    period_to = models.CharField(max_length=PERIOD_LENGTH, blank=True)
    sales_files = models.ManyToManyField("SalesFile", related_name="runs", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the first report; from then on the rate sets are frozen so the report stays true.
    report_generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="run_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class SalesFile(models.Model):
    """One DSP sales file: its upload in storage, pipeline status and counters."""

    name = models.CharField(max_length=255, help_text="Original file name, for display only.")
    status = models.CharField(
        max_length=12, choices=SalesFileStatus.choices, default=SalesFileStatus.INITIALIZED
    )
    failure_reason = models.TextField(blank=True)
    # Asked for at creation: the import profile slug (or "ddex_dsr") that skips detection.
    profile = models.CharField(max_length=64, blank=True)
    # What the cleaning recognised: "ddex_dsr" or an import profile's slug, and its details.
    format = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    # The file's checks against itself that did not hold (e.g. DSR FOOT counts), as text.
    warnings = models.JSONField(default=list, blank=True)
    # Totals the file declares about itself (DSR SY/FOOT records, a totals row), as read.
    declared = models.JSONField(default=dict, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    lines_read = models.PositiveIntegerField(default=0)
    lines_valid = models.PositiveIntegerField(default=0, help_text="Lines imported (or to import).")
    lines_rejected = models.PositiveIntegerField(default=0)
    # Control totals of the imported lines: {"USD": {"lines": 3, "units": 6190, "revenue": "1.23"}}.
    totals = models.JSONField(default=dict, blank=True)
    # A task working on the file renews this lease while it runs (heartbeat); once it lapses in
    # CLEANING/CLEANED/IMPORTING no live task holds the file and it may be processed again.
    lease_until = models.DateTimeField(null=True, blank=True)
    progress_processed = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} ({self.status})"

    # Keys derive from the id only: an uploaded file name never becomes a path.
    @property
    def upload_key(self) -> str:
        return f"statements/salesfiles/{self.pk}/upload"

    @property
    def cleaned_key(self) -> str:
        return f"statements/salesfiles/{self.pk}/cleaned.csv"

    @property
    def rejected_key(self) -> str:
        return f"statements/salesfiles/{self.pk}/rejected.csv"


class SalesFileEvent(models.Model):
    """Every status change of a sales file, with where it came from."""

    sales_file = models.ForeignKey(SalesFile, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=SalesFileStatus.choices)
    to_status = models.CharField(max_length=12, choices=SalesFileStatus.choices)
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=20, default="pipeline")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class SalesLine(models.Model):
    """One accepted line of a cleaned sales file; rows are replaced as a whole on re-import."""

    # (file, line number) is the natural key: it makes a duplicated line impossible, and its index
    # serves every per-file query, where a serial id and a separate file index would cost the
    # million-line COPY a sequence call and two index insertions per row.
    pk = models.CompositePrimaryKey("sales_file", "line_number")
    # No database-level FK either: PostgreSQL checks one with a trigger per inserted row. Lines are
    # only written by the import, for its own file, inside the transaction that holds it; Django
    # still cascades deletes.
    sales_file = models.ForeignKey(
        SalesFile, on_delete=models.CASCADE, related_name="lines", db_constraint=False, db_index=False
    )
    line_number = models.PositiveIntegerField()
    period = models.CharField(max_length=PERIOD_LENGTH)
    dsp = models.CharField(max_length=200)
    artist = models.CharField(max_length=500)
    isrc = models.CharField(max_length=12, blank=True)
    upc = models.CharField(max_length=14, blank=True)
    title = models.CharField(max_length=500, blank=True)
    territory = models.CharField(max_length=2)
    units = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=30, decimal_places=16)
    currency = models.CharField(max_length=3)
    sale_type = models.CharField(max_length=10, default="other")  # cleaners.base.SALE_TYPES
    # Free text as the source names it; no length limit the cleaners would have to know about.
    use_type = models.TextField(blank=True)
    commercial_model = models.TextField(blank=True)
    release = models.TextField(blank=True)

    class Meta:
        # pipeline.COPY_SQL names this table.
        db_table = "statements_salesline"

    def __str__(self) -> str:
        return f"{self.sales_file_id}:{self.line_number}"


class SalesFileSnapshot(models.Model):
    """Totals of one imported file per DSP, period and currency."""

    sales_file = models.ForeignKey(SalesFile, on_delete=models.CASCADE, related_name="snapshots")
    dsp = models.CharField(max_length=200)
    period = models.CharField(max_length=PERIOD_LENGTH)
    currency = models.CharField(max_length=3)
    lines = models.PositiveIntegerField()
    units = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=30, decimal_places=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sales_file", "dsp", "period", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["sales_file", "dsp", "period", "currency"], name="snapshot_unique_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dsp} {self.period} {self.currency}: {self.lines} lines"


class ExchangeRate(models.Model):
    """Rate from `currency` to the run's currency for one period."""

    run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="rates")
    currency = models.CharField(max_length=3)
    period = models.CharField(max_length=PERIOD_LENGTH)
    rate = models.DecimalField(max_digits=24, decimal_places=10)

    class Meta:
        ordering = ["currency", "period"]
        constraints = [
            models.UniqueConstraint(fields=["run", "currency", "period"], name="rate_unique_per_period"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.period} = {self.rate}"


class RateException(models.Model):
    """A rate overriding the run rate for one DSP and/or one sales file (optionally one period)."""

    run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="rate_exceptions")
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=24, decimal_places=10)
    dsp = models.CharField(max_length=200, blank=True)
    # PROTECT: deleting a file must not silently change the rates of a run that names it.
    sales_file = models.ForeignKey(
        SalesFile, null=True, blank=True, on_delete=models.PROTECT, related_name="rate_exceptions"
    )
    period = models.CharField(max_length=PERIOD_LENGTH, blank=True)

    class Meta:
        ordering = ["currency", "dsp", "sales_file", "period"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(dsp="") | Q(sales_file__isnull=False), name="exception_has_dsp_or_file"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exception_rate_positive"),
            # Two partial constraints because NULL sales files would never collide in one.
            models.UniqueConstraint(
                fields=["run", "currency", "dsp", "sales_file", "period"],
                condition=Q(sales_file__isnull=False),
                name="exception_unique_file_scope",
            ),
            models.UniqueConstraint(
                fields=["run", "currency", "dsp", "period"],
                condition=Q(sales_file__isnull=True),
                name="exception_unique_dsp_scope",
            ),
        ]

    def __str__(self) -> str:
        scope = ", ".join(
            part
            for part in (self.dsp, self.sales_file_id and f"file {self.sales_file_id}", self.period)
            if part
        )
        return f"{self.currency} = {self.rate} ({scope})"


class RateChange(models.Model):
    """History: every rate or exception set that replaced the previous one, as sent."""

    class Kind(models.TextChoices):
        RATES = "rates"
        EXCEPTIONS = "exceptions"

    run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="rate_changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    items = models.JSONField()
    previous = models.JSONField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} of run {self.run_id} at {self.changed_at:%Y-%m-%d %H:%M}"


class WebhookEvent(models.Model):
    """A webhook call already accepted; its event id can never be accepted again."""

    event_id = models.CharField(max_length=200, unique=True)
    sales_file = models.ForeignKey(SalesFile, null=True, on_delete=models.SET_NULL, related_name="+")
    event = models.CharField(max_length=20)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.event_id


class ImportProfileManager(models.Manager):
    def load_builtin(self) -> int:
        """Create the built-in profiles, or restore them as shipped (edits to them are replaced);
        returns how many there are. Migration 0003 does the same at install."""
        records = json.loads(BUILTIN_FIXTURE.read_text(encoding="utf-8"))
        for record in records:
            fields = dict(record["fields"])
            self.update_or_create(slug=fields.pop("slug"), defaults={**fields, "builtin": True})
        return len(records)


class ImportProfile(models.Model):
    """How to read one CSV/TSV report layout (a DSP's or a distributor's export).

    The cleaning picks the active profile whose required columns a file's header names (or the one
    a sales file was created with). Built-in profiles come from
    `fixtures/statements/import_profiles.json`; add one here for a layout they do not cover, then
    process the failed file again.
    """

    class Delimiter(models.TextChoices):
        DETECT = "", "detect (comma, semicolon, tab or pipe)"
        COMMA = ",", "comma"
        SEMICOLON = ";", "semicolon"
        TAB = "\t", "tab"
        PIPE = "|", "pipe"

    class DecimalSeparator(models.TextChoices):
        DETECT = "", "detect (comma with semicolon, tab or pipe delimiters)"
        POINT = ".", "point: 1,234.56"
        COMMA = ",", "comma: 1.234,56"

    class DateOrder(models.TextChoices):
        MDY = "mdy", "month first: 06/30/2025"
        DMY = "dmy", "day first: 30/06/2025"

    slug = models.SlugField(
        max_length=50, unique=True, help_text="Stable name; a sales file may name it to skip detection."
    )
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True, help_text="Inactive profiles are never tried.")
    builtin = models.BooleanField(
        default=False, editable=False, help_text="Shipped with the app (a migration may update it)."
    )
    priority = models.SmallIntegerField(
        default=0,
        help_text="When several profiles match a header, the highest priority wins, then the one "
        "recognising the most columns. The generic CSV profile has -100.",
    )
    delimiter = models.CharField(max_length=1, choices=Delimiter.choices, blank=True, default="")
    decimal_separator = models.CharField(
        max_length=1, choices=DecimalSeparator.choices, blank=True, default=""
    )
    date_order = models.CharField(max_length=3, choices=DateOrder.choices, default=DateOrder.MDY)
    columns = models.JSONField(
        default=dict,
        help_text="Our field → the header names that feed it, in order of preference, e.g. "
        '{"artist": ["Track Artists", "Artist"], "revenue": ["Royalty ($US)"]}. Case, spaces and '
        'punctuation do not matter; a currency in a header ("Royalty ($US)", "Earnings (USD)") '
        "may be left out and becomes the file's currency. Fields: period, dsp, artist, title, isrc, "
        "upc, territory, units, revenue, currency, sale_type, void, release, commercial_model.",
    )
    required = models.JSONField(
        default=list,
        help_text="The fields whose column must be in the header for this layout to be recognised, "
        'e.g. ["artist", "units", "revenue"]: the header\'s signature.',
    )
    defaults = models.JSONField(
        default=dict,
        blank=True,
        help_text="Values for fields the report has no column for (or leaves empty), e.g. "
        '{"dsp": "Spotify", "currency": "EUR", "territory": "WW", "sale_type": "stream"}. The '
        "period may also come from the preamble or the file name (2025-06, 202506).",
    )
    preamble = models.JSONField(
        default=dict,
        blank=True,
        help_text='Lines above the header read as "key<TAB>value" (or "key,value", "key: value"): '
        'key → our field, e.g. {"Start Date": "period", "Currency": "currency", "Report Type": "dsp"}.',
    )
    sale_types = models.JSONField(
        default=dict,
        blank=True,
        help_text="The source's sale/use type → ours (stream, download, physical, other), e.g. "
        '{"Streaming": "stream", "Album": "download"}. Unlisted types containing "stream" or '
        '"download" map by that word; the source\'s own value is kept as the use type.',
    )
    void_values = models.JSONField(
        default=list,
        blank=True,
        help_text="Values of the void column (or, without one, of the sale type) that mark a "
        'reversal, e.g. ["Void", "Return"]: units and revenue become negative.',
    )
    skip_values = models.JSONField(
        default=list,
        blank=True,
        help_text='Sale types of rows that are not sales and are skipped as structural, e.g. ["payout"].',
    )
    documentation = models.TextField(blank=True, help_text="Where this layout is described.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ImportProfileManager()

    class Meta:
        ordering = ["-priority", "slug"]
        constraints = [
            # "ddex_dsr" names the DSR reader where a sales file asks for a profile.
            models.CheckConstraint(
                condition=~Q(slug="ddex_dsr"),
                name="import_profile_slug_not_ddex_dsr",
                violation_error_message="The slug “ddex_dsr” is reserved for DDEX DSR files.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def clean(self) -> None:
        try:
            ProfileSpec.from_model(self)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


# Royalty accounting (issue 17) lives in its own module; importing it registers its models.
from statements import models_royalties  # noqa: E402, F401
