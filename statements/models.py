"""Models of the statements app: runs, sales files and their lines, rates, snapshots, webhook nonces."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from statements.cleaners import dsr
from statements.cleaners.profiles import BUILTIN_FIXTURE, ProfileSpec

PERIOD_LENGTH = 7  # "YYYY-MM"


class ExactDecimalField(models.DecimalField):
    """An unconstrained PostgreSQL `numeric`: every digit a report writes is kept (a Spotify
    report via a distributor has amounts of 28 significant digits); figures are rounded only
    when presented (`project.money.rounded`)."""

    def __init__(self, *args, **kwargs):
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        super().__init__(*args, **kwargs)

    def check(self, **kwargs):
        return models.Field.check(self, **kwargs)  # no precision or scale to check

    def db_type(self, connection) -> str:
        return "numeric"


class SalesFileStatus(models.TextChoices):
    INITIALIZED = "INITIALIZED", _("Initialized")
    UPLOADED = "UPLOADED", _("Uploaded")
    CLEANING = "CLEANING", _("Cleaning")
    CLEANED = "CLEANED", _("Cleaned")
    IMPORTING = "IMPORTING", _("Importing")
    PROCESSED = "PROCESSED", _("Processed")
    FAILED = "FAILED", _("Failed")
    # No import profile matches the file's header: someone maps its columns (statements.mapping).
    NEEDS_MAPPING = "NEEDS_MAPPING", _("Needs mapping")


class RevenueBasis(models.TextChoices):
    """Which DDEX DSR column is a line's income (statements.cleaners.dsr; docs/sales-reports.md)."""

    ALLOCATED_NET_REVENUE = dsr.ALLOCATED_NET_REVENUE, _("Allocated net revenue (LI, summary)")
    ALLOCATED_AMOUNT = dsr.ALLOCATED_AMOUNT, _("Allocated amount (LI): what the rights controller is paid")
    USAGE_NET_REVENUE = dsr.USAGE_NET_REVENUE, _("Net revenue of the usages (SU)")
    NET_REVENUE = dsr.NET_REVENUE, _("Net revenue (summary)")


class StatementRun(models.Model):
    """A statement to produce: its currency, filters and the sales files it reads."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    currency = models.CharField(max_length=3, default="EUR", verbose_name=_("currency"))
    artists = models.JSONField(
        default=list, blank=True, help_text=_("Empty means every artist."), verbose_name=_("artists")
    )
    dsps = models.JSONField(
        default=list, blank=True, help_text=_("Empty means every DSP."), verbose_name=_("dsps")
    )
    periods = models.JSONField(
        default=list, blank=True, help_text=_("YYYY-MM list; empty means any."), verbose_name=_("periods")
    )
    period_from = models.CharField(max_length=PERIOD_LENGTH, blank=True, verbose_name=_("period from"))
    period_to = models.CharField(max_length=PERIOD_LENGTH, blank=True, verbose_name=_("period to"))
    sales_files = models.ManyToManyField(
        "SalesFile", related_name="runs", blank=True, verbose_name=_("sales files")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # Set by the first report; from then on the rate sets are frozen so the report stays true.
    report_generated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("report generated at"))

    class Meta:
        verbose_name = _("statement run")
        verbose_name_plural = _("statement runs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="run_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class SalesFile(models.Model):
    """One DSP sales file: its upload in storage, pipeline status and counters."""

    name = models.CharField(
        max_length=255, help_text=_("Original file name, for display only."), verbose_name=_("name")
    )
    status = models.CharField(
        max_length=16,
        choices=SalesFileStatus.choices,
        default=SalesFileStatus.INITIALIZED,
        verbose_name=_("status"),
    )
    failure_reason = models.TextField(blank=True, verbose_name=_("failure reason"))
    # The reason as a code with parameters (statements.texts), shown in the reader's language.
    failure_code = models.CharField(max_length=40, blank=True, default="", verbose_name=_("failure code"))
    failure_params = models.JSONField(default=dict, blank=True, verbose_name=_("failure parameters"))
    # Asked for at creation: the import profile slug (or "ddex_dsr") that skips detection.
    profile = models.CharField(max_length=64, blank=True, verbose_name=_("profile"))
    # The income column of a DDEX DSR file: asked for before processing (blank: the default), then
    # the one the cleaning used.
    revenue_basis = models.CharField(
        max_length=32, blank=True, choices=RevenueBasis.choices, verbose_name=_("revenue basis")
    )
    # What the cleaning recognised: "ddex_dsr" or an import profile's slug, and its details.
    format = models.CharField(max_length=64, blank=True, verbose_name=_("format"))
    detail = models.CharField(max_length=300, blank=True, verbose_name=_("detail"))
    # The file's checks against itself that did not hold (e.g. DSR FOOT counts), as text.
    warnings = models.JSONField(default=list, blank=True, verbose_name=_("warnings"))
    # Totals the file declares about itself (DSR SY/FOOT records, a totals row), as read.
    declared = models.JSONField(default=dict, blank=True, verbose_name=_("declared"))
    size = models.BigIntegerField(null=True, blank=True, verbose_name=_("size"))
    # SHA-256 of the content processed: a second file with the same bytes is refused unless a
    # reason is given, which is kept with the earlier file it repeats.
    sha256 = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("SHA-256"))
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("duplicate of"),
    )
    duplicate_reason = models.TextField(blank=True, verbose_name=_("duplicate reason"))
    lines_read = models.PositiveIntegerField(default=0, verbose_name=_("lines read"))
    lines_valid = models.PositiveIntegerField(
        default=0, help_text=_("Lines imported (or to import)."), verbose_name=_("lines valid")
    )
    lines_rejected = models.PositiveIntegerField(default=0, verbose_name=_("lines rejected"))
    # Control totals of the imported lines: {"USD": {"lines": 3, "units": 6190, "revenue": "1.23"}}.
    totals = models.JSONField(default=dict, blank=True, verbose_name=_("totals"))
    # Per currency, the file's amounts against what was imported and rejected, exact, as text:
    # {"USD": {"source": "4.35", "imported": "4.3", "rejected": "0.05", "difference": "0"}}.
    reconciliation = models.JSONField(default=dict, blank=True, verbose_name=_("reconciliation"))
    # A task working on the file renews this lease while it runs (heartbeat); once it lapses in
    # CLEANING/CLEANED/IMPORTING no live task holds the file and it may be processed again.
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    progress_processed = models.PositiveIntegerField(default=0, verbose_name=_("progress processed"))
    progress_total = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("progress total"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    status_changed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("status changed at"))

    class Meta:
        verbose_name = _("sales file")
        verbose_name_plural = _("sales files")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} ({self.get_status_display()})"

    @property
    def failure_text(self) -> str:
        """The failure reason in the active language."""
        from statements.texts import CATALOGUE

        return CATALOGUE.render(self.failure_code, self.failure_params, self.failure_reason)

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

    sales_file = models.ForeignKey(
        SalesFile, on_delete=models.CASCADE, related_name="events", verbose_name=_("sales file")
    )
    from_status = models.CharField(
        max_length=16, choices=SalesFileStatus.choices, verbose_name=_("from status")
    )
    to_status = models.CharField(max_length=16, choices=SalesFileStatus.choices, verbose_name=_("to status"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    source = models.CharField(max_length=20, default="pipeline", verbose_name=_("source"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("at"))

    class Meta:
        verbose_name = _("sales file event")
        verbose_name_plural = _("sales file events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


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
        SalesFile,
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,
        db_index=False,
        verbose_name=_("sales file"),
    )
    line_number = models.PositiveIntegerField(verbose_name=_("line number"))
    period = models.CharField(max_length=PERIOD_LENGTH, verbose_name=_("period"))
    dsp = models.CharField(max_length=200, verbose_name=_("dsp"))
    artist = models.CharField(max_length=500, verbose_name=_("artist"))
    isrc = models.CharField(max_length=12, blank=True, verbose_name=_("isrc"))
    upc = models.CharField(max_length=14, blank=True, verbose_name=_("upc"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    territory = models.CharField(max_length=2, verbose_name=_("territory"))
    units = models.BigIntegerField(verbose_name=_("units"))
    revenue = ExactDecimalField(verbose_name=_("revenue"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    sale_type = models.CharField(
        max_length=10, default="other", verbose_name=_("sale type")
    )  # cleaners.base.SALE_TYPES
    # Free text as the source names it; no length limit the cleaners would have to know about.
    use_type = models.TextField(blank=True, verbose_name=_("use type"))
    commercial_model = models.TextField(blank=True, verbose_name=_("commercial model"))
    release = models.TextField(blank=True, verbose_name=_("release"))

    class Meta:
        verbose_name = _("sales line")
        verbose_name_plural = _("sales lines")
        # pipeline.COPY_SQL names this table.
        db_table = "statements_salesline"

    def __str__(self) -> str:
        return f"{self.sales_file_id}:{self.line_number}"


class SalesFileSnapshot(models.Model):
    """Totals of one imported file per DSP, period and currency."""

    sales_file = models.ForeignKey(
        SalesFile, on_delete=models.CASCADE, related_name="snapshots", verbose_name=_("sales file")
    )
    dsp = models.CharField(max_length=200, verbose_name=_("dsp"))
    period = models.CharField(max_length=PERIOD_LENGTH, verbose_name=_("period"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    lines = models.PositiveIntegerField(verbose_name=_("lines"))
    units = models.BigIntegerField(verbose_name=_("units"))
    revenue = ExactDecimalField(verbose_name=_("revenue"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("sales file snapshot")
        verbose_name_plural = _("sales file snapshots")
        ordering = ["sales_file", "dsp", "period", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["sales_file", "dsp", "period", "currency"], name="snapshot_unique_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dsp} {self.period} {self.currency}: {self.lines} lines"


class SalesFileTrack(models.Model):
    """The lines of one processed file summed per currency, DSP, month and track (ISRC, UPC,
    artist): what a royalty draft matches to contracts and converts, kept so that a draft does not
    sum the lines again (`services.keep_track_sums`). Deleted whenever the file's lines are replaced."""

    sales_file = models.ForeignKey(
        SalesFile, on_delete=models.CASCADE, related_name="+", verbose_name=_("sales file")
    )
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    dsp = models.CharField(max_length=200, verbose_name=_("dsp"))
    period = models.CharField(max_length=PERIOD_LENGTH, verbose_name=_("period"))
    isrc = models.CharField(max_length=12, blank=True, verbose_name=_("isrc"))
    upc = models.CharField(max_length=14, blank=True, verbose_name=_("upc"))
    artist = models.CharField(max_length=500, verbose_name=_("artist"))
    lines = models.PositiveIntegerField(verbose_name=_("lines"))
    units = models.BigIntegerField(verbose_name=_("units"))
    revenue = ExactDecimalField(verbose_name=_("revenue"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))  # the greatest

    class Meta:
        verbose_name = _("sales file track")
        verbose_name_plural = _("sales file tracks")
        # No unique index on (file, currency, DSP, month, ISRC, UPC, artist): inserted in no order,
        # its seven text columns cost summing a million lines 5 s more (the sums take 2 s). The GROUP
        # BY that writes a file's sums makes them unique, and one writer per file at a time
        # (`services.keep_track_sums`) keeps them so.
        constraints = [models.CheckConstraint(condition=Q(lines__gt=0), name="file_track_has_lines")]

    def __str__(self) -> str:
        return f"{self.sales_file_id}: {self.artist} {self.isrc} {self.dsp} {self.period}"


class SalesFileCombination(models.Model):
    """A sale type x DSP x territory that lines of one processed file hold (what contract rate
    overrides a draft looks up), kept and replaced with `SalesFileTrack`."""

    sales_file = models.ForeignKey(
        SalesFile, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("sales file")
    )
    sale_type = models.CharField(max_length=10, verbose_name=_("sale type"))
    dsp = models.CharField(max_length=200, verbose_name=_("dsp"))
    territory = models.CharField(max_length=2, verbose_name=_("territory"))

    class Meta:
        verbose_name = _("sales file combination")
        verbose_name_plural = _("sales file combinations")
        constraints = [
            models.UniqueConstraint(
                fields=["sales_file", "sale_type", "dsp", "territory"], name="file_combination_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sales_file_id}: {self.sale_type} {self.dsp} {self.territory}"


class ExchangeRate(models.Model):
    """Rate from `currency` to the run's currency for one period."""

    run = models.ForeignKey(
        StatementRun, on_delete=models.CASCADE, related_name="rates", verbose_name=_("run")
    )
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    period = models.CharField(max_length=PERIOD_LENGTH, verbose_name=_("period"))
    rate = models.DecimalField(max_digits=24, decimal_places=10, verbose_name=_("rate"))

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "period"]
        constraints = [
            models.UniqueConstraint(fields=["run", "currency", "period"], name="rate_unique_per_period"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.period} = {self.rate}"


class RateException(models.Model):
    """A rate overriding the run rate for one DSP and/or one sales file (optionally one period)."""

    run = models.ForeignKey(
        StatementRun, on_delete=models.CASCADE, related_name="rate_exceptions", verbose_name=_("run")
    )
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    rate = models.DecimalField(max_digits=24, decimal_places=10, verbose_name=_("rate"))
    dsp = models.CharField(max_length=200, blank=True, verbose_name=_("dsp"))
    # PROTECT: deleting a file must not silently change the rates of a run that names it.
    sales_file = models.ForeignKey(
        SalesFile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rate_exceptions",
        verbose_name=_("sales file"),
    )
    period = models.CharField(max_length=PERIOD_LENGTH, blank=True, verbose_name=_("period"))

    class Meta:
        verbose_name = _("rate exception")
        verbose_name_plural = _("rate exceptions")
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
        RATES = "rates", _("Rates")
        EXCEPTIONS = "exceptions", _("Exceptions")
        PAYEE_RATES = "payee_rates", _("Payee currency rates")

    run = models.ForeignKey(
        StatementRun, on_delete=models.CASCADE, related_name="rate_changes", verbose_name=_("run")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    items = models.JSONField(verbose_name=_("items"))
    previous = models.JSONField(verbose_name=_("previous"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("changed at"))

    class Meta:
        verbose_name = _("rate change")
        verbose_name_plural = _("rate changes")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} of run {self.run_id} at {self.changed_at:%Y-%m-%d %H:%M}"


class WebhookEvent(models.Model):
    """A webhook call already accepted; its event id can never be accepted again."""

    event_id = models.CharField(max_length=200, unique=True, verbose_name=_("event id"))
    sales_file = models.ForeignKey(
        SalesFile, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("sales file")
    )
    event = models.CharField(max_length=20, verbose_name=_("event"))
    payload = models.JSONField(verbose_name=_("payload"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
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
        DETECT = "", _("detect (comma, semicolon, tab or pipe)")
        COMMA = ",", _("comma")
        SEMICOLON = ";", _("semicolon")
        TAB = "\t", _("tab")
        PIPE = "|", _("pipe")

    class DecimalSeparator(models.TextChoices):
        DETECT = "", _("detect (comma with semicolon, tab or pipe delimiters)")
        POINT = ".", _("point: 1,234.56")
        COMMA = ",", _("comma: 1.234,56")

    class DateOrder(models.TextChoices):
        MDY = "mdy", _("month first: 06/30/2025")
        DMY = "dmy", _("day first: 30/06/2025")

    slug = models.SlugField(
        max_length=50,
        unique=True,
        help_text=_("Stable name; a sales file may name it to skip detection."),
        verbose_name=_("slug"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    active = models.BooleanField(
        default=True, help_text=_("Inactive profiles are never tried."), verbose_name=_("active")
    )
    builtin = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("Shipped with the app (a migration may update it)."),
        verbose_name=_("builtin"),
    )
    priority = models.SmallIntegerField(
        default=0,
        help_text=_(
            "When several profiles match a header, the highest priority wins, then the one "
            "recognising the most columns. The generic CSV profile has -100."
        ),
        verbose_name=_("priority"),
    )
    delimiter = models.CharField(
        max_length=1, choices=Delimiter.choices, blank=True, default="", verbose_name=_("delimiter")
    )
    decimal_separator = models.CharField(
        max_length=1,
        choices=DecimalSeparator.choices,
        blank=True,
        default="",
        verbose_name=_("decimal separator"),
    )
    date_order = models.CharField(
        max_length=3, choices=DateOrder.choices, default=DateOrder.MDY, verbose_name=_("date order")
    )
    columns = models.JSONField(
        default=dict,
        help_text=_(
            "Our field → the header names that feed it, in order of preference, e.g. "
            '{"artist": ["Track Artists", "Artist"], "revenue": ["Royalty ($US)"]}. Case, spaces and '
            'punctuation do not matter; a currency in a header ("Royalty ($US)", "Earnings (USD)") '
            "may be left out and becomes the file's currency. Fields: period, dsp, artist, title, isrc, "
            "upc, territory, units, revenue, currency, sale_type, void, release, commercial_model."
        ),
        verbose_name=_("columns"),
    )
    required = models.JSONField(
        default=list,
        help_text=_(
            "The fields whose column must be in the header for this layout to be recognised, "
            'e.g. ["artist", "units", "revenue"]: the header\'s signature.'
        ),
        verbose_name=_("required"),
    )
    defaults = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "Values for fields the report has no column for (or leaves empty), e.g. "
            '{"dsp": "Spotify", "currency": "EUR", "territory": "WW", "sale_type": "stream"}. The '
            "period may also come from the preamble or the file name (2025-06, 202506)."
        ),
        verbose_name=_("defaults"),
    )
    preamble = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'Lines above the header read as "key<TAB>value" (or "key,value", "key: value"): '
            'key → our field, e.g. {"Start Date": "period", "Currency": "currency", "Report Type": "dsp"}.'
        ),
        verbose_name=_("preamble"),
    )
    sale_types = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "The source's sale/use type → ours (stream, download, physical, other), e.g. "
            '{"Streaming": "stream", "Album": "download"}. Unlisted types containing "stream" or '
            '"download" map by that word; the source\'s own value is kept as the use type.'
        ),
        verbose_name=_("sale types"),
    )
    void_values = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "Values of the void column (or, without one, of the sale type) that mark a "
            'reversal, e.g. ["Void", "Return"]: units and revenue become negative.'
        ),
        verbose_name=_("void values"),
    )
    skip_values = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Sale types of rows that are not sales and are skipped as structural, e.g. ["payout"].'),
        verbose_name=_("skip values"),
    )
    skip_markers = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "Values that, in any column of a row, mark it as no sale (a totals or trailer row), e.g. "
            '["Total", "Subtotal"]: the row is skipped as structural and counted in a warning.'
        ),
        verbose_name=_("skip markers"),
    )
    documentation = models.TextField(
        blank=True, help_text=_("Where this layout is described."), verbose_name=_("documentation")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = ImportProfileManager()

    class Meta:
        verbose_name = _("import profile")
        verbose_name_plural = _("import profiles")
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


# Royalty accounting (issue 17) lives in statements/royalties/; importing its models registers them under this app.
from statements.royalties import models as royalties_models  # noqa: E402, F401
