"""The operators' daily session (one per calendar day), its processed shipments and its step log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sessions_app.texts import CATALOGUE


class Session(models.Model):
    """The shipping session of one day: started once, run by a task, closed once.

    `status` is the state of the run; closing is recorded separately (`closed_at`) so a closed
    session still says whether its run succeeded or failed.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    day = models.DateField(help_text=_("Calendar day in TIME_ZONE."), verbose_name=_("day"))
    invoice_file = models.ForeignKey(
        "ingestion.InvoiceFile",
        on_delete=models.PROTECT,  # the session's CSV and emails refer to it: keep it while the session exists
        related_name="shipping_sessions",
        verbose_name=_("invoice file"),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    task_id = models.CharField(
        max_length=64, blank=True, help_text=_("django-q2 task of the latest run."), verbose_name=_("task id")
    )
    run_token = models.UUIDField(
        null=True, blank=True, help_text=_("Lease of the worker running it now."), verbose_name=_("run token")
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    total = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("CSV lines to generate."), verbose_name=_("total")
    )
    not_found = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Invoices not in the database at run time."),
        verbose_name=_("not found"),
    )
    past = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Invoices dated in the past at run time."),
        verbose_name=_("past"),
    )
    csv_name = models.CharField(max_length=255, blank=True, verbose_name=_("csv name"))
    csv_path = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Storage key of the generated CSV."),
        verbose_name=_("csv path"),
    )
    generated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("generated at"))
    uploaded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("uploaded at"))
    records_read = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("As reported by the remote log."), verbose_name=_("records read")
    )
    confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the remote log entry was found."),
        verbose_name=_("confirmed at"),
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    failure_reason = models.TextField(blank=True, verbose_name=_("failure reason"))
    # The reason as a code with parameters (sessions_app.texts), shown in the reader's language.
    failure_code = models.CharField(max_length=40, blank=True, default="", verbose_name=_("failure code"))
    failure_params = models.JSONField(default=dict, blank=True, verbose_name=_("failure parameters"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    force_closed = models.BooleanField(default=False, verbose_name=_("force closed"))

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["day"], name="sessions_one_session_per_day"),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_reason=""), name="sessions_failed_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(force_closed=False) | Q(closed_at__isnull=False),
                name="sessions_forced_means_closed",
            ),
            models.CheckConstraint(
                condition=Q(uploaded_at__isnull=True) | Q(generated_at__isnull=False),
                name="sessions_upload_after_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.day.isoformat()}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_complete(self) -> bool:
        """All records processed and confirmed by the receiver."""
        return self.status == self.Status.SUCCEEDED

    @property
    def failure_text(self) -> str:
        """The failure reason in the active language."""
        return CATALOGUE.render(self.failure_code, self.failure_params, self.failure_reason)


class ProcessedShipment(models.Model):
    """One CSV line generated by a session; counting these rows is the session's progress."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="shipments", verbose_name=_("session")
    )
    position = models.PositiveIntegerField(
        help_text=_("Data line number in the CSV (1 = first after the header)."), verbose_name=_("position")
    )
    invoice_number = models.CharField(max_length=9, verbose_name=_("invoice number"))
    quantity = models.IntegerField(verbose_name=_("quantity"))
    value = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("value"))

    class Meta:
        verbose_name = _("processed shipment")
        verbose_name_plural = _("processed shipments")
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="sessions_shipment_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_number} (#{self.position})"


class SessionStep(models.Model):
    """Timestamped log of what happened to a session (start, each run step, close)."""

    class Kind(models.TextChoices):
        START = "start", _("Start")
        RUN = "run", _("Run")
        GENERATE = "generate", _("Generate")
        UPLOAD = "upload", _("Upload")
        LOG_CHECK = "log_check", _("log check")
        NOTIFY = "notify", _("Notify")
        CLOSE = "close", _("Close")
        REOPEN = "reopen", _("Reopen")

    class Outcome(models.TextChoices):
        STARTED = "started", _("Started")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="steps", verbose_name=_("session")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    outcome = models.CharField(max_length=10, choices=Outcome.choices, verbose_name=_("outcome"))
    message = models.TextField(blank=True, verbose_name=_("message"))
    # The message as a code with parameters (sessions_app.texts), shown in the reader's language.
    message_code = models.CharField(max_length=40, blank=True, default="", verbose_name=_("message code"))
    message_params = models.JSONField(default=dict, blank=True, verbose_name=_("message parameters"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("session step")
        verbose_name_plural = _("session steps")
        ordering = ["session", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"

    @property
    def text(self) -> str:
        """The message in the active language."""
        return CATALOGUE.render(self.message_code, self.message_params, self.message)
