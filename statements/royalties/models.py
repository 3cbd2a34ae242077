"""Royalty accounting models: payees, contracts with their rates and splits, the append-only payee
ledger, the finalised statement runs and which sales line each finalised run paid (issue 17).

Money on the ledger is exact (NUMERIC without rounding); figures are rounded only when presented.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from project import admin_display
from statements.models import PERIOD_LENGTH, SalesFile, StatementRun

SALE_TYPES = ("stream", "download", "physical", "other")
AMOUNT = {"max_digits": 40, "decimal_places": 24}  # products of 16-place revenue, rates and shares
RATE = {"max_digits": 12, "decimal_places": 10}


class VatStatus(models.TextChoices):
    NOT_REGISTERED = "not_registered", _("not VAT registered")
    REGISTERED = "registered", _("VAT registered")
    EXEMPT = "exempt", _("VAT exempt")


class PaymentMethod(models.TextChoices):
    NONE = "none", _("not set")
    IBAN = "iban", _("bank transfer (IBAN)")
    PAYPAL = "paypal", _("PayPal")
    WISE = "wise", _("Wise")


# The fields a payee may ask to change (PaymentDetailsChange); withholding and VAT status stay staff's.
PAYMENT_DETAILS = (
    "address",
    "country",
    "tax_id",
    "payment_method",
    "iban",
    "bic",
    "paypal_email",
    "wise_email",
)


class Payee(models.Model):
    """Someone a share of royalties is paid to."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    email = models.EmailField(blank=True, verbose_name=_("email"))
    currency = models.CharField(
        max_length=3, default="EUR", help_text=_("Statement currency."), verbose_name=_("currency")
    )
    minimum_payout = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        default=0,
        help_text=_("Balances below this are carried forward."),
        verbose_name=_("minimum payout"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    email_statements = models.BooleanField(
        default=False, help_text=_("Email each statement (opt-in)."), verbose_name=_("email statements")
    )
    self_billing = models.BooleanField(
        default=False,
        help_text=_("The label issues this payee's invoices for them: one per finalised statement (opt-in)."),
        verbose_name=_("self-billing"),
    )
    # Payee details (issue 24). The payment details (PAYMENT_DETAILS) change through
    # `payee_details.update_payee_details` or, when the payee asks, an approved PaymentDetailsChange.
    address = models.TextField(blank=True, verbose_name=_("address"))
    country = models.CharField(
        max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. IT."), verbose_name=_("country")
    )
    tax_id = models.CharField(
        max_length=40,
        blank=True,
        help_text=_("VAT number or fiscal code, checked for the country."),
        verbose_name=_("tax id"),
    )
    vat_status = models.CharField(
        max_length=20,
        choices=VatStatus.choices,
        default=VatStatus.NOT_REGISTERED,
        verbose_name=_("VAT status"),
    )
    withholding_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        help_text=_("Percent withheld from payments, e.g. 20."),
        verbose_name=_("withholding rate"),
    )
    payment_method = models.CharField(
        max_length=20,
        choices=PaymentMethod.choices,
        default=PaymentMethod.NONE,
        verbose_name=_("payment method"),
    )
    iban = models.CharField(max_length=34, blank=True, verbose_name=_("IBAN"))
    bic = models.CharField(max_length=11, blank=True, verbose_name=_("BIC"))
    paypal_email = models.EmailField(blank=True, verbose_name=_("PayPal email"))
    wise_email = models.EmailField(blank=True, verbose_name=_("Wise email"))

    class Meta:
        verbose_name = _("payee")
        verbose_name_plural = _("payees")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payee_currency_iso"),
            models.CheckConstraint(condition=Q(minimum_payout__gte=0), name="payee_minimum_payout_positive"),
            models.CheckConstraint(
                condition=Q(withholding_rate__gte=0, withholding_rate__lte=100),
                name="payee_withholding_percent",
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(country__regex=r"^[A-Z]{2}$"), name="payee_country_iso"
            ),
            models.CheckConstraint(
                condition=~Q(payment_method="iban") | ~Q(iban=""), name="payee_iban_method_has_iban"
            ),
            models.CheckConstraint(
                condition=~Q(payment_method="paypal") | ~Q(paypal_email=""),
                name="payee_paypal_method_has_email",
            ),
            models.CheckConstraint(
                condition=~Q(payment_method="wise") | ~Q(wise_email=""), name="payee_wise_method_has_email"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PaymentDetailsChange(models.Model):
    """New payment details a payee submitted: used only once staff approve them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        SUPERSEDED = "superseded", _("superseded")

    payee = models.ForeignKey(
        Payee, on_delete=models.CASCADE, related_name="details_changes", verbose_name=_("payee")
    )
    details = models.JSONField(
        help_text=_("The submitted values of the payment details, checked."), verbose_name=_("details")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(auto_now_add=True, verbose_name=_("submitted at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("payment details change")
        verbose_name_plural = _("payment details changes")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["payee"], condition=Q(status="pending"), name="details_change_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payee}: {self.get_status_display()}"


class Contract(models.Model):
    """What a set of recordings earns and for whom: scope, rates by sale type, splits.

    Scope: tracks by ISRC, releases by UPC, artist names; a line takes the contracts of its most
    specific match (ISRC over UPC over artist) valid in its period. Basis: net receipts (the
    converted revenue the DSP reported).
    """

    class Basis(models.TextChoices):
        NET_RECEIPTS = "net_receipts", _("net receipts")

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    artists = models.JSONField(
        default=list, blank=True, help_text=_('Artist names, e.g. ["Ana"].'), verbose_name=_("artists")
    )
    upcs = models.JSONField(
        default=list, blank=True, help_text=_("Release UPCs/EANs."), verbose_name=_("upcs")
    )
    isrcs = models.JSONField(default=list, blank=True, help_text=_("Track ISRCs."), verbose_name=_("isrcs"))
    valid_from = models.CharField(
        max_length=PERIOD_LENGTH,
        blank=True,
        help_text=_("First period, YYYY-MM."),
        verbose_name=_("valid from"),
    )
    valid_to = models.CharField(
        max_length=PERIOD_LENGTH, blank=True, help_text=_("Last period, YYYY-MM."), verbose_name=_("valid to")
    )
    basis = models.CharField(
        max_length=20, choices=Basis.choices, default=Basis.NET_RECEIPTS, verbose_name=_("basis")
    )
    rate_stream = models.DecimalField(
        **RATE, help_text=_("Fraction of net receipts, e.g. 0.20."), verbose_name=_("rate stream")
    )
    rate_download = models.DecimalField(**RATE, verbose_name=_("rate download"))
    rate_physical = models.DecimalField(**RATE, verbose_name=_("rate physical"))
    rate_other = models.DecimalField(**RATE, verbose_name=_("rate other"))
    reserve_rate = models.DecimalField(
        **RATE,
        default=0,
        help_text=_("Fraction of download and physical earnings withheld as a reserve."),
        verbose_name=_("reserve rate"),
    )
    reserve_periods = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("A reserve is released this many finalised runs after it was held."),
        verbose_name=_("reserve periods"),
    )
    cross_collateral_group = models.CharField(
        max_length=100,
        blank=True,
        help_text=_(
            "Contracts of a payee in the same group share one balance: advances of one are "
            "recouped from the earnings of all."
        ),
        verbose_name=_("cross collateral group"),
    )
    payees = models.ManyToManyField(
        Payee, through="ContractSplit", related_name="contracts", verbose_name=_("payees")
    )

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["name"]
        constraints = [
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": 0, f"{field}__lte": 1}), name=f"contract_{field}_fraction"
                )
                for field in ("rate_stream", "rate_download", "rate_physical", "rate_other", "reserve_rate")
            ),
            models.CheckConstraint(
                condition=Q(valid_from="") | Q(valid_to="") | Q(valid_from__lte=models.F("valid_to")),
                name="contract_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def pool(self) -> str:
        """The balance this contract's entries belong to for each payee."""
        return (
            f"group:{self.cross_collateral_group}" if self.cross_collateral_group else f"contract:{self.pk}"
        )


class ContractRate(models.Model):
    """A rate replacing the contract's rate for one DSP and/or territory (optionally one sale type)."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="rate_overrides", verbose_name=_("contract")
    )
    sale_type = models.CharField(
        max_length=10, blank=True, help_text=_("Empty: every sale type."), verbose_name=_("sale type")
    )
    dsp = models.CharField(max_length=200, blank=True, verbose_name=_("dsp"))
    territory = models.CharField(max_length=2, blank=True, verbose_name=_("territory"))
    rate = models.DecimalField(**RATE, verbose_name=_("rate"))

    class Meta:
        verbose_name = _("contract rate")
        verbose_name_plural = _("contract rates")
        ordering = ["contract", "dsp", "territory", "sale_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "sale_type", "dsp", "territory"], name="contract_rate_unique_scope"
            ),
            models.CheckConstraint(condition=~Q(dsp="") | ~Q(territory=""), name="contract_rate_has_scope"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=1), name="contract_rate_fraction"),
        ]

    def __str__(self) -> str:
        return f"{self.contract}: {self.rate} ({self.dsp or '*'}/{self.territory or '*'}/{self.sale_type or '*'})"


class ContractSplit(models.Model):
    """A payee's share (percent) of a contract's royalties; a contract's shares add up to 100."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="splits", verbose_name=_("contract")
    )
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="splits", verbose_name=_("payee"))
    share = models.DecimalField(
        max_digits=9, decimal_places=6, help_text=_("Percent, e.g. 60."), verbose_name=_("share")
    )

    class Meta:
        verbose_name = _("contract split")
        verbose_name_plural = _("contract splits")
        ordering = ["contract", "payee"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "payee"], name="split_unique_payee"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=100), name="split_share_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.payee}: {self.share} % of {self.contract}"


class RoyaltyRun(models.Model):
    """A statement run once finalised: its ledger entries are posted and it can no longer change.

    Its `statement_set` keeps the statements exactly as finalised, so they read the same later
    whatever the ledger or contracts became.
    """

    run = models.OneToOneField(
        StatementRun, on_delete=models.PROTECT, related_name="royalty", verbose_name=_("run")
    )
    sequence = models.PositiveIntegerField(
        unique=True, help_text=_("Order of finalisation: 1, 2, …"), verbose_name=_("sequence")
    )
    finalized_at = models.DateTimeField(auto_now_add=True, verbose_name=_("finalized at"))
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("finalized by"),
    )

    class Meta:
        verbose_name = _("royalty run")
        verbose_name_plural = _("royalty runs")
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence}: {self.run}"


class PayeeRate(models.Model):
    """The rate a run converts earnings at for the payees paid in `currency`: 1 unit of the run's
    currency is worth `rate` of `currency` (multiplied, so the converted figure stays exact).
    Entered like the run's sales rates; frozen once the run is finalised (a trigger refuses
    changes then, migration 0032)."""

    run = models.ForeignKey(
        StatementRun, on_delete=models.CASCADE, related_name="payee_rates", verbose_name=_("run")
    )
    currency = models.CharField(max_length=3, verbose_name=_("payee currency"))
    rate = models.DecimalField(max_digits=24, decimal_places=10, verbose_name=_("rate"))
    source = models.CharField(
        max_length=200,
        help_text=_("Where the rate comes from, e.g. ECB reference rate."),
        verbose_name=_("source"),
    )
    date = models.DateField(help_text=_("The day the rate was quoted."), verbose_name=_("rate date"))

    class Meta:
        verbose_name = _("payee currency rate")
        verbose_name_plural = _("payee currency rates")
        ordering = ["currency"]
        constraints = [
            models.UniqueConstraint(fields=["run", "currency"], name="payee_rate_once_per_currency"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="payee_rate_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payee_rate_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.run.currency} = {self.rate} {self.currency} ({self.source}, {self.date})"


class RoyaltyLedgerEntry(models.Model):
    """One movement on a payee's balance for one contract; never updated or deleted.

    The balance is the sum of `amount` over every kind but the memos (MEMO_KINDS): an advance or
    cost debits the balance when it is posted, so a recoupment entry is a memo of the earnings that
    repaid it (its amount is the part recouped) and is not counted twice. Likewise finalising a run
    posts what it makes payable as a `payment` (debiting the balance), and `paid_out` records the
    money a payment batch sent for it (issue 24).
    """

    class Kind(models.TextChoices):
        ADVANCE = "advance", _("Advance")
        COST = "cost", _("recoupable cost")
        EARNINGS = "earnings", _("Earnings")
        RECOUPMENT = "recoupment", _("Recoupment")
        RESERVE_HELD = "reserve_held", _("reserve held")
        RESERVE_RELEASED = "reserve_released", _("reserve released")
        PAYMENT = "payment", _("Payment")
        ADJUSTMENT = "adjustment", _("Adjustment")
        PAID_OUT = "paid_out", _("paid out")

    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="ledger", verbose_name=_("payee"))
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="ledger", verbose_name=_("contract")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    amount = models.DecimalField(**AMOUNT, verbose_name=_("amount"))
    currency = models.CharField(
        max_length=3, help_text=_("A balance is kept per currency."), verbose_name=_("currency")
    )
    date = models.DateField(verbose_name=_("date"))
    royalty_run = models.ForeignKey(
        RoyaltyRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("royalty run"),
    )
    releases = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="released_by",
        help_text=_("The reserve this entry releases (once)."),
        verbose_name=_("releases"),
    )
    memo = models.CharField(max_length=300, blank=True, verbose_name=_("memo"))
    payment_line = models.OneToOneField(
        "PaymentLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="paid_entry",
        help_text=_("The batch line this entry records as paid out (once)."),
        verbose_name=_("payment line"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("royalty ledger entry")
        ordering = ["date", "pk"]
        verbose_name_plural = _("royalty ledger entries")
        indexes = [models.Index(fields=["payee", "contract"], name="ledger_payee_contract")]
        constraints = [
            models.CheckConstraint(
                # Earnings may be negative (returns and voids outweighing sales in a period).
                condition=Q(
                    kind__in=["advance", "cost", "reserve_held", "payment", "paid_out"], amount__lte=0
                )
                | Q(kind__in=["recoupment", "reserve_released"], amount__gte=0)
                | Q(kind__in=["earnings", "adjustment"]),
                name="ledger_amount_sign",
                violation_error_message=_(
                    "Advances, costs, reserves held and payments debit the balance: enter them as "
                    "negative amounts (e.g. -1000.00 for an advance of 1,000.00)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(releases__isnull=True) | Q(kind="reserve_released"), name="ledger_release_kind"
            ),
            models.CheckConstraint(
                condition=(Q(payment_line__isnull=True) & ~Q(kind="paid_out"))
                | Q(payment_line__isnull=False, kind="paid_out"),
                name="ledger_paid_out_has_line",
            ),
        ]

    def __str__(self) -> str:
        amount = admin_display.money(self.amount, self.currency, exact=True)
        return f"{self.date} {self.payee}: {self.get_kind_display()} {amount}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only: post an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only: post an adjustment instead.")


# Entries that record something and leave the balance alone.
MEMO_KINDS = (RoyaltyLedgerEntry.Kind.RECOUPMENT, RoyaltyLedgerEntry.Kind.PAID_OUT)


class PaymentBatch(models.Model):
    """Payments of finalised runs' payables, reviewed by staff, exported as SEPA/CSV files and
    marked paid once (`statements/royalties/payments.py` holds one service per transition)."""

    class Status(models.TextChoices):
        OPEN = "open", _("to review")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    runs = models.ManyToManyField(RoyaltyRun, related_name="payment_batches", verbose_name=_("runs"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    paid_on = models.DateField(null=True, blank=True, verbose_name=_("paid on"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid or cancelled at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("paid or cancelled by"),
    )

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="paid", paid_on__isnull=False)
                | (~Q(status="paid") & Q(paid_on__isnull=True)),
                name="payment_batch_paid_on",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_status_display()})"


class PaymentLine(models.Model):
    """What one payee is paid in one currency by a batch: the payables it settles, less withholding
    (nothing, with 100 % withholding: the line is then fully withheld and in no payment file)."""

    class Remittance(models.TextChoices):
        NONE = "none", _("no email")
        PENDING = "pending", _("to send")
        QUEUED = "queued", _("queued")

    batch = models.ForeignKey(
        PaymentBatch, on_delete=models.CASCADE, related_name="lines", verbose_name=_("batch")
    )
    payee = models.ForeignKey(
        Payee, on_delete=models.PROTECT, related_name="payment_lines", verbose_name=_("payee")
    )
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    gross = models.DecimalField(
        **AMOUNT, help_text=_("The payables settled, exact."), verbose_name=_("payable")
    )
    withheld = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        default=0,
        help_text=_("Withholding, rounded."),
        verbose_name=_("withheld"),
    )
    vat = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        default=0,
        help_text=_("VAT the payee's self-billing invoices charge on top, rounded: not royalty balance."),
        verbose_name=_("VAT"),
    )
    amount = models.DecimalField(
        max_digits=18, decimal_places=4, help_text=_("Sent to the payee, rounded."), verbose_name=_("amount")
    )
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, verbose_name=_("payment method"))
    account = models.CharField(
        max_length=254,
        blank=True,
        help_text=_("IBAN or email when the batch was made."),
        verbose_name=_("account"),
    )
    bic = models.CharField(max_length=11, blank=True, verbose_name=_("BIC"))
    reference = models.CharField(max_length=140, verbose_name=_("reference"))
    remittance = models.CharField(
        max_length=10,
        choices=Remittance.choices,
        default=Remittance.NONE,
        help_text=_("The remittance email: rendered with the statements after the batch is marked paid."),
        verbose_name=_("remittance"),
    )

    class Meta:
        verbose_name = _("payment line")
        verbose_name_plural = _("payment lines")
        ordering = ["batch", "payee__name", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "payee", "currency"], name="payment_line_once_per_payee"
            ),
            # A fully withheld line sends nothing (amount 0) but settles its payables.
            models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(amount=0, withheld__gt=0),
                name="payment_line_sends_or_withholds",
            ),
            models.CheckConstraint(condition=Q(withheld__gte=0), name="payment_line_withheld_positive"),
            models.CheckConstraint(condition=Q(vat__gte=0), name="payment_line_vat_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payee}: {admin_display.money(self.amount, self.currency)}"

    @property
    def fully_withheld(self) -> bool:
        """Everything payable was withheld: the line settles the payables, no money is sent."""
        return self.amount == 0


class PaymentLineEntry(models.Model):
    """A run's payable (a `payment` ledger entry) claimed by a batch line: a payable is in at most
    one batch that is not cancelled (cancelling a batch deletes its claims)."""

    line = models.ForeignKey(
        PaymentLine, on_delete=models.CASCADE, related_name="claims", verbose_name=_("line")
    )
    entry = models.OneToOneField(
        RoyaltyLedgerEntry, on_delete=models.PROTECT, related_name="claimed_by", verbose_name=_("payable")
    )

    class Meta:
        verbose_name = _("payable in a batch")
        verbose_name_plural = _("payables in batches")

    def __str__(self) -> str:
        return f"{self.entry_id} in line {self.line_id}"


class RoyaltyAllocation(models.Model):
    """A sales line paid under a contract by a finalised run; at most once per contract."""

    royalty_run = models.ForeignKey(
        RoyaltyRun, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("royalty run")
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("contract")
    )
    # PROTECT: a file whose lines were paid stays, so what was paid can always be shown.
    sales_file = models.ForeignKey(
        SalesFile, on_delete=models.PROTECT, related_name="+", verbose_name=_("sales file")
    )
    line_number = models.PositiveIntegerField(verbose_name=_("line number"))
    # The line's content fingerprint (calculation.CONTENT_SQL): the same content in another file is
    # not paid again. Empty only for a paid line whose file no longer holds it.
    content = models.UUIDField(null=True, blank=True, verbose_name=_("content fingerprint"))

    class Meta:
        verbose_name = _("royalty allocation")
        verbose_name_plural = _("royalty allocations")
        indexes = [models.Index(fields=["content"], name="allocation_content")]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "sales_file", "line_number"], name="allocation_once_per_contract"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sales_file_id}:{self.line_number} under {self.contract_id}"


class RoyaltyStatementSet(models.Model):
    """A run's statements as computed: a draft's, kept for the `digest` of the inputs they were
    computed from (lines, contracts, splits, rates, payees, ledger, allocations), so the next view
    of the same inputs reads them instead of computing; or, once `royalty_run` is set, a finalised
    run's statements as posted. Payees, groups of lines and unmatched groups are rows of their own
    tables: a month of millions of lines is far beyond what one JSON document may hold."""

    run = models.ForeignKey(
        StatementRun, on_delete=models.CASCADE, related_name="royalty_statement_sets", verbose_name=_("run")
    )
    digest = models.CharField(max_length=64, verbose_name=_("digest"))
    royalty_run = models.OneToOneField(
        RoyaltyRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statement_set",
        verbose_name=_("royalty run"),
    )
    sequence = models.PositiveIntegerField(verbose_name=_("sequence"))
    problems = models.JSONField(default=list, blank=True, verbose_name=_("problems"))
    revenue = models.DecimalField(**AMOUNT, verbose_name=_("revenue"))
    already_allocated = models.BigIntegerField(default=0, verbose_name=_("lines already paid"))
    period_first = models.CharField(max_length=PERIOD_LENGTH, blank=True, verbose_name=_("first month"))
    period_last = models.CharField(max_length=PERIOD_LENGTH, blank=True, verbose_name=_("last month"))
    # Lines left out as paid from, or held by, an earlier file: per (file, earlier file), a few.
    duplicates = models.JSONField(default=list, blank=True, verbose_name=_("duplicates"))
    computed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("royalty statements")
        verbose_name_plural = _("royalty statements")
        constraints = [models.UniqueConstraint(fields=["run", "digest"], name="royalty_statements_once")]

    def __str__(self) -> str:
        return f"statements of run #{self.run_id}"


# The rows below belong to a statement set and go with it: deleted by the database (ON DELETE
# CASCADE, migration 0018), because Django's cascade would load millions of group rows first.
SET_FK = {"on_delete": models.DO_NOTHING, "verbose_name": _("statements")}


class RoyaltyStatement(models.Model):
    """One payee's statement in a set: the summary figures (exact), the payee as they were, the
    balances per contract or cross-collateralisation group, and what finalising posts."""

    statement_set = models.ForeignKey(RoyaltyStatementSet, related_name="statements", **SET_FK)
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="+", verbose_name=_("payee"))
    position = models.PositiveIntegerField(verbose_name=_("position"))
    payee_details = models.JSONField(default=dict, verbose_name=_("payee details"))
    opening = models.DecimalField(**AMOUNT, verbose_name=_("opening"))
    earnings = models.DecimalField(**AMOUNT, verbose_name=_("earnings"))
    reserve_held = models.DecimalField(**AMOUNT, verbose_name=_("reserve held"))
    reserve_released = models.DecimalField(**AMOUNT, verbose_name=_("reserve released"))
    recouped = models.DecimalField(**AMOUNT, verbose_name=_("recouped"))
    closing = models.DecimalField(**AMOUNT, verbose_name=_("closing"))
    payable = models.DecimalField(**AMOUNT, verbose_name=_("payable"))
    carried_forward = models.DecimalField(**AMOUNT, verbose_name=_("carried forward"))
    # The payee's currency: the summary figures, balances and postings are in it. `run_earnings` is
    # the earnings in the run's currency before conversion at `fx_rate` (None: no conversion).
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    fx_rate = models.DecimalField(
        max_digits=24, decimal_places=10, null=True, blank=True, verbose_name=_("exchange rate")
    )
    run_earnings = models.DecimalField(**AMOUNT, verbose_name=_("earnings in the run's currency"))
    # Advances and costs not yet recouped before this run (unknown for runs finalised before it was kept).
    outstanding = models.DecimalField(**AMOUNT, null=True, blank=True, verbose_name=_("outstanding"))
    balances = models.JSONField(default=list, blank=True, verbose_name=_("balances"))
    postings = models.JSONField(default=dict, blank=True, verbose_name=_("postings"))

    class Meta:
        verbose_name = _("payee statement")
        verbose_name_plural = _("payee statements")
        ordering = ["statement_set", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement_set", "payee"], name="royalty_statement_once_per_payee"
            )
        ]

    def __str__(self) -> str:
        return f"{self.payee_details.get('name', self.payee_id)} in statements {self.statement_set_id}"


class RoyaltyStatementGroup(models.Model):
    """The lines of one contract, sale type, DSP, territory, month and track in a set: their
    converted revenue (`base`) and the contract's rate. A payee's line detail is these rows times
    the payee's share of the contract (`RoyaltyStatementShare`)."""

    statement_set = models.ForeignKey(RoyaltyStatementSet, related_name="groups", **SET_FK)
    # No constraint: a draft's contract may be deleted; a finalised run's is kept by its ledger entries.
    contract = models.ForeignKey(
        Contract,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("contract"),
    )
    sale_type = models.CharField(max_length=10, verbose_name=_("sale type"))
    dsp = models.CharField(max_length=200, verbose_name=_("dsp"))
    territory = models.CharField(max_length=2, verbose_name=_("territory"))
    period = models.CharField(max_length=PERIOD_LENGTH, verbose_name=_("period"))
    isrc = models.CharField(max_length=12, blank=True, verbose_name=_("isrc"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    lines = models.BigIntegerField(verbose_name=_("lines"))
    units = models.BigIntegerField(verbose_name=_("units"))
    base = models.DecimalField(**AMOUNT, verbose_name=_("base"))
    rate = models.DecimalField(**RATE, verbose_name=_("rate"))

    class Meta:
        verbose_name = _("statement group of lines")
        verbose_name_plural = _("statement groups of lines")
        indexes = [models.Index(fields=["statement_set", "contract"], name="royalty_group_contract")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.sale_type} {self.dsp} {self.territory} {self.period} {self.isrc}"


class RoyaltyStatementBreakdown(models.Model):
    """What one contract earned in a set (its lines' converted revenue times their rate) by DSP,
    month, territory or track: a payee's breakdowns are these rows times their share. Kept for
    every set, while the line detail (`RoyaltyStatementGroup`) is written when first read."""

    class Dimension(models.TextChoices):
        DSP = "dsp", _("DSP")
        PERIOD = "period", _("month")
        TERRITORY = "territory", _("territory")
        TRACK = "isrc", _("track")

    statement_set = models.ForeignKey(RoyaltyStatementSet, related_name="breakdowns", **SET_FK)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("contract"),
    )
    dimension = models.CharField(max_length=10, choices=Dimension.choices, verbose_name=_("dimension"))
    name = models.CharField(max_length=200, blank=True, verbose_name=_("name"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    earnings = models.DecimalField(**AMOUNT, verbose_name=_("earnings"))

    class Meta:
        verbose_name = _("statement breakdown")
        verbose_name_plural = _("statement breakdowns")
        indexes = [models.Index(fields=["statement_set", "contract"], name="royalty_breakdown_contract")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.dimension} {self.name}"


class RoyaltyStatementShare(models.Model):
    """A payee's share (percent) of a contract's groups in a set, as it was when computed."""

    statement_set = models.ForeignKey(RoyaltyStatementSet, related_name="shares", **SET_FK)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("contract"),
    )
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="+", verbose_name=_("payee"))
    share = models.DecimalField(max_digits=9, decimal_places=6, verbose_name=_("share"))

    class Meta:
        verbose_name = _("statement share")
        verbose_name_plural = _("statement shares")
        constraints = [
            models.UniqueConstraint(
                fields=["statement_set", "payee", "contract"], name="royalty_statement_share_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.payee_id}: {self.share} % of {self.contract_id}"


class RoyaltySuspenseGroup(models.Model):
    """Lines of a set that matched no contract, grouped by artist, ISRC, UPC, DSP and month: in
    suspense, or kept by the label (`label_income`, marked by `LabelIncome`)."""

    statement_set = models.ForeignKey(RoyaltyStatementSet, related_name="suspense", **SET_FK)
    label_income = models.BooleanField(default=False, verbose_name=_("label income"))
    artist = models.CharField(max_length=500, verbose_name=_("artist"))
    isrc = models.CharField(max_length=12, blank=True, verbose_name=_("isrc"))
    upc = models.CharField(max_length=14, blank=True, verbose_name=_("upc"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    dsp = models.CharField(max_length=200, verbose_name=_("dsp"))
    period = models.CharField(max_length=PERIOD_LENGTH, verbose_name=_("period"))
    lines = models.BigIntegerField(verbose_name=_("lines"))
    units = models.BigIntegerField(verbose_name=_("units"))
    revenue = models.DecimalField(**AMOUNT, verbose_name=_("revenue"))

    class Meta:
        verbose_name = _("unmatched group")
        verbose_name_plural = _("unmatched groups")
        indexes = [models.Index(fields=["statement_set"], name="royalty_suspense_set")]

    def __str__(self) -> str:
        return f"{self.artist} {self.isrc} {self.dsp} {self.period}"


class RoyaltyPresentedStatements(models.Model):
    """What the run's statements show of a set's rows (`presentation.statements_figures`: each
    payee's summary and balances, the unmatched groups), kept when the draft is stored (or on the
    first view of a set kept before) so that views decode it instead of building 10^5 figures again. The rows never change (other inputs
    are another set), so neither does this, until the presentation does (`version`). JSON
    compressed here (zlib), not a JSONField: jsonb would reorder the keys, it is only ever read
    whole, and sending a megabyte to be decompressed here is a third of the time of PostgreSQL
    decompressing and sending ten."""

    statement_set = models.OneToOneField(
        RoyaltyStatementSet, primary_key=True, related_name="presented", **SET_FK
    )
    version = models.PositiveSmallIntegerField(verbose_name=_("version"))
    figures = models.BinaryField(verbose_name=_("figures"))

    class Meta:
        verbose_name = _("statements as presented")
        verbose_name_plural = _("statements as presented")

    def __str__(self) -> str:
        return f"statements of set #{self.statement_set_id} as presented"


class RoyaltyArchive(models.Model):
    """The zip of every payee's statement documents, built by a background task into the storage
    (one PDF takes about 0.4 s: a thousand payees take minutes, too long for a request).

    `fingerprint` is the SHA-256 of the statements the zip was asked for: a draft's statements
    change with its contracts and ledger, so a zip is only ever served for the data it holds.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        BUILDING = "building", _("building")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    run = models.ForeignKey(
        StatementRun, on_delete=models.CASCADE, related_name="royalty_archives", verbose_name=_("run")
    )
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    processed = models.PositiveIntegerField(default=0, verbose_name=_("processed"))
    total = models.PositiveIntegerField(default=0, verbose_name=_("total"))
    storage_key = models.CharField(max_length=300, blank=True, verbose_name=_("storage key"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    requested_at = models.DateTimeField(auto_now_add=True, verbose_name=_("requested at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("statements zip")
        verbose_name_plural = _("statements zips")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "fingerprint"], name="royalty_archive_once_per_data"),
            models.CheckConstraint(
                condition=Q(processed__lte=models.F("total")), name="royalty_archive_progress"
            ),
        ]

    def __str__(self) -> str:
        return f"statements zip of run #{self.run_id} ({self.status})"


class RoyaltyApproval(models.Model):
    """A staff user's approval of a draft run's statements as they were (four-eyes finalisation,
    ROYALTY_FINALISE_APPROVALS): `fingerprint` is the SHA-256 of the statements approved, so an
    approval no longer counts once contracts, ledger or lines change what they say."""

    run = models.ForeignKey(
        StatementRun, on_delete=models.CASCADE, related_name="royalty_approvals", verbose_name=_("run")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    approved_at = models.DateTimeField(auto_now_add=True, verbose_name=_("approved at"))

    class Meta:
        verbose_name = _("finalisation approval")
        verbose_name_plural = _("finalisation approvals")
        ordering = ["approved_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "user", "fingerprint"], name="royalty_approval_once"),
        ]

    def __str__(self) -> str:
        return f"run #{self.run_id} approved by {self.user}"


# --- the catalogue (upserted from every processed sales file; importable) -------------------------


class Release(models.Model):
    """A release by its UPC/EAN, as the sales reports name it (titles can be corrected by hand:
    a later report only fills what is still empty)."""

    upc = models.CharField(max_length=14, unique=True, verbose_name=_("UPC"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    artists = models.CharField(max_length=500, blank=True, verbose_name=_("artists"))
    label = models.CharField(max_length=200, blank=True, verbose_name=_("label"))

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["artists", "title", "upc"]

    def __str__(self) -> str:
        return " · ".join(part for part in (self.upc, self.artists, self.title) if part)


class Track(models.Model):
    """A recording by its ISRC, as the sales reports name it, on the release it was last sold on."""

    isrc = models.CharField(max_length=12, unique=True, verbose_name=_("ISRC"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    artists = models.CharField(max_length=500, blank=True, verbose_name=_("artists"))
    release = models.ForeignKey(
        Release,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tracks",
        verbose_name=_("release"),
    )

    class Meta:
        verbose_name = _("track")
        verbose_name_plural = _("tracks")
        ordering = ["artists", "title", "isrc"]

    def __str__(self) -> str:
        return " · ".join(part for part in (self.isrc, self.artists, self.title) if part)


class LabelIncome(models.Model):
    """Income the label keeps: lines of this ISRC, UPC or artist that no contract matches are the
    label's own, not unmatched income held in suspense."""

    class Scope(models.TextChoices):
        ISRC = "isrc", _("ISRC")
        UPC = "upc", _("UPC")
        ARTIST = "artist", _("artist")

    scope = models.CharField(max_length=10, choices=Scope.choices, verbose_name=_("by"))
    value = models.CharField(max_length=500, verbose_name=_("value"))
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("label income")
        verbose_name_plural = _("label income")
        ordering = ["scope", "value"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "value"], name="label_income_once"),
            models.CheckConstraint(condition=~Q(value=""), name="label_income_has_value"),
            models.CheckConstraint(
                condition=Q(scope__in=["isrc", "upc", "artist"]), name="label_income_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.value}"


class InvoiceCounter(models.Model):
    """The last self-billing invoice number of a label. Issuing locks this row (select_for_update)
    in the transaction that creates the invoice, so numbers follow each other without gaps."""

    label = models.CharField(max_length=40, unique=True, verbose_name=_("label"))
    last_number = models.PositiveIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")

    def __str__(self) -> str:
        return f"{self.label}: {self.last_number}"


class SelfBillingInvoice(models.Model):
    """An invoice the label issued in a payee's name for one finalised statement (self-billing).
    Amounts are rounded once to the currency's minor unit; `parties` keeps both parties' details as
    they were at issue, so the invoice reads the same whatever the payee's details become."""

    class Treatment(models.TextChoices):
        DOMESTIC_VAT = "domestic_vat", _("domestic VAT")
        REVERSE_CHARGE = "reverse_charge", _("EU reverse charge")
        OUTSIDE_SCOPE = "outside_scope", _("outside the scope of EU VAT")
        NO_VAT = "no_vat", _("no VAT: supplier not VAT registered")
        EXEMPT = "exempt", _("no VAT: supplier exempt")

    label = models.CharField(max_length=40, verbose_name=_("label"))
    number = models.PositiveIntegerField(verbose_name=_("number"))
    royalty_run = models.ForeignKey(
        RoyaltyRun, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("royalty run")
    )
    payee = models.ForeignKey(
        Payee, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("payee")
    )
    issue_date = models.DateField(verbose_name=_("issue date"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    net = models.DecimalField(max_digits=18, decimal_places=4, verbose_name=_("net amount"))
    treatment = models.CharField(max_length=20, choices=Treatment.choices, verbose_name=_("VAT treatment"))
    vat_rate = models.DecimalField(**RATE, verbose_name=_("VAT rate"))
    vat = models.DecimalField(max_digits=18, decimal_places=4, verbose_name=_("VAT"))
    withholding_rate = models.DecimalField(**RATE, verbose_name=_("withholding rate"))
    withholding = models.DecimalField(max_digits=18, decimal_places=4, verbose_name=_("withholding tax"))
    total = models.DecimalField(
        max_digits=18, decimal_places=4, help_text=_("Net + VAT - withholding."), verbose_name=_("to pay")
    )
    parties = models.JSONField(default=dict, verbose_name=_("parties"))
    storage_key = models.CharField(max_length=300, blank=True, verbose_name=_("storage key"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("self-billing invoice")
        verbose_name_plural = _("self-billing invoices")
        ordering = ["label", "number"]
        constraints = [
            models.UniqueConstraint(fields=["label", "number"], name="invoice_number_once_per_label"),
            models.UniqueConstraint(fields=["royalty_run", "payee"], name="invoice_once_per_statement"),
            models.CheckConstraint(condition=Q(number__gte=1), name="invoice_number_positive"),
            models.CheckConstraint(
                condition=Q(total=models.F("net") + models.F("vat") - models.F("withholding")),
                name="invoice_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(
                    vat_rate__gte=0, vat_rate__lte=1, withholding_rate__gte=0, withholding_rate__lte=1
                ),
                name="invoice_rates_fraction",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        """The invoice number as printed: `SB-000042`."""
        return f"{self.label}-{self.number:06d}"


# The payee portal's accounts (statements/royalties/portal/).
from statements.royalties.portal.models import PortalAccount  # noqa: E402, F401
