"""Admin of royalty accounting: payees, contracts (with rate overrides and splits), the catalogue
(releases and tracks; these three import/export as CSV or xlsx through django-import-export), the
append-only ledger and the income kept by the label."""

from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from project import admin_display
from project.errors import DomainError
from statements.royalties import payee_details, services
from statements.royalties.forms import (
    ContractForm,
    ContractRateForm,
    LedgerEntryForm,
    PayeeForm,
)
from statements.royalties.models import (
    Contract,
    ContractRate,
    ContractSplit,
    LabelIncome,
    Payee,
    PaymentDetailsChange,
    PaymentMethod,
    Release,
    RoyaltyArchive,
    RoyaltyLedgerEntry,
    RoyaltyRun,
    Track,
)
from statements.royalties.payments_admin import create_payment_batch  # registers the batch admin
from statements.royalties.percent import fraction_of
from statements.royalties.portal.admin import invite_to_portal, issue_invoices

HUNDRED = Decimal(100)


class ListWidget(widgets.Widget):
    """A JSON list of names or codes as one cell: "NLA012600001; NLA012600002"."""

    def clean(self, value, row=None, **kwargs) -> list[str]:
        return [item.strip() for item in str(value or "").split(";") if item.strip()]

    def render(self, value, obj=None, **kwargs) -> str:
        return "; ".join(value or [])


class SplitsWidget(widgets.Widget):
    """Splits as one cell, "Payee name: 60; Other payee: 40"; the payees must exist and the shares
    add up to exactly 100."""

    def clean(self, value, row=None, **kwargs) -> list[tuple[Payee, Decimal]]:
        shares = []
        for part in str(value or "").split(";"):
            if not part.strip():
                continue
            name, _, share = part.rpartition(":")
            try:
                amount = Decimal(share.strip().rstrip("%").strip())
            except InvalidOperation:
                raise ValueError(f"split {part.strip()!r} is not “payee name: percent”") from None
            payee = Payee.objects.filter(name=name.strip()).first()
            if payee is None:
                raise ValueError(f"no payee named {name.strip()!r}")
            shares.append((payee, amount))
        total = sum((share for _, share in shares), Decimal(0))
        if total != HUNDRED:
            raise ValueError(f"splits add up to {total} %, not 100 %")
        return shares

    def render(self, value, obj=None, **kwargs) -> str:
        if value:  # splits read from a row, not saved yet
            return "; ".join(f"{payee.name}: {share.normalize():f}" for payee, share in value)
        if obj is None or obj.pk is None:
            return ""
        return "; ".join(f"{split.payee.name}: {split.share.normalize():f}" for split in obj.splits.all())


class RateWidget(widgets.DecimalWidget):
    """A rate as the stored fraction ("0.2") or, with a percent sign, as a percent ("20 %")."""

    def clean(self, value, row=None, **kwargs) -> Decimal | None:
        text = str(value or "").strip()
        if text.endswith("%"):
            try:
                return fraction_of(Decimal(text.rstrip("%").strip()))
            except InvalidOperation:
                raise ValueError(f"rate {text!r} is not a number") from None
        return super().clean(value, row, **kwargs)


LIST_FIELDS = ("artists", "upcs", "isrcs")


class ContractResource(resources.ModelResource):
    """One row per contract; a contract with the same name is updated, its splits replaced."""

    artists = fields.Field(attribute="artists", column_name="artists", widget=ListWidget())
    upcs = fields.Field(attribute="upcs", column_name="upcs", widget=ListWidget())
    isrcs = fields.Field(attribute="isrcs", column_name="isrcs", widget=ListWidget())
    splits = fields.Field(attribute="pending_splits", column_name="splits", widget=SplitsWidget())
    rate_stream = fields.Field(attribute="rate_stream", column_name="rate_stream", widget=RateWidget())
    rate_download = fields.Field(attribute="rate_download", column_name="rate_download", widget=RateWidget())
    rate_physical = fields.Field(attribute="rate_physical", column_name="rate_physical", widget=RateWidget())
    rate_other = fields.Field(attribute="rate_other", column_name="rate_other", widget=RateWidget())
    reserve_rate = fields.Field(attribute="reserve_rate", column_name="reserve_rate", widget=RateWidget())

    class Meta:
        model = Contract
        import_id_fields = ["name"]
        fields = [
            "name",
            *LIST_FIELDS,
            "valid_from",
            "valid_to",
            "basis",
            "rate_stream",
            "rate_download",
            "rate_physical",
            "rate_other",
            "reserve_rate",
            "reserve_periods",
            "cross_collateral_group",
            "splits",
        ]
        export_order = fields
        skip_unchanged = False

    def dehydrate_splits(self, contract: Contract) -> str:
        return SplitsWidget().render(getattr(contract, "pending_splits", None), contract)

    def after_save_instance(self, instance: Contract, row, **kwargs) -> None:
        if not kwargs.get("dry_run"):
            services.set_splits(contract=instance, shares=instance.pending_splits)


class SplitFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        forms = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        total = sum((f.cleaned_data["share"] for f in forms), Decimal(0))
        if forms and total != HUNDRED:
            raise ValidationError(_("The splits add up to %(total)s %%, not 100 %%.") % {"total": total})


class ContractSplitInline(admin.TabularInline):
    model = ContractSplit
    formset = SplitFormSet
    extra = 1
    autocomplete_fields = ["payee"]


class ContractRateInline(admin.TabularInline):
    model = ContractRate
    form = ContractRateForm
    extra = 0


def percent_column(field: str, label: str):
    """A list column (a method of the admin) showing a stored fraction as a percent: 0.2 → "20 %"."""

    @admin.display(description=label, ordering=field)
    def column(model_admin: admin.ModelAdmin, obj: Contract) -> str:
        return admin_display.percent(getattr(obj, field))

    return column


def money_column(field: str, label: str):
    """A list column: the amount rounded to its currency's minor unit, with the currency code."""

    @admin.display(description=label, ordering=field)
    def column(model_admin: admin.ModelAdmin, obj) -> str:
        return admin_display.money(getattr(obj, field), obj.currency)

    return column


@admin.register(Payee)
class PayeeAdmin(admin.ModelAdmin):
    form = PayeeForm
    list_display = [
        "name",
        "email",
        "currency",
        "minimum_payout_shown",
        "payment_method",
        "active",
        "email_statements",
    ]
    minimum_payout_shown = money_column("minimum_payout", gettext_lazy("minimum payout"))
    list_filter = ["active", "currency", "email_statements", "payment_method", "vat_status", "self_billing"]
    search_fields = ["name", "email", "tax_id"]
    fieldsets = [
        (None, {"fields": ["name", "email", "currency", "minimum_payout", "active", "email_statements"]}),
        (
            gettext_lazy("Details"),
            {"fields": ["address", "country", "tax_id", "vat_status", "withholding_rate", "self_billing"]},
        ),
        (
            gettext_lazy("Payment details"),
            {"fields": ["payment_method", "iban", "bic", "paypal_email", "wise_email"]},
        ),
    ]
    actions = [invite_to_portal]


@admin.register(Contract)
class ContractAdmin(ImportExportModelAdmin):
    resource_classes = [ContractResource]
    form = ContractForm
    list_display = [
        "name",
        "valid_from",
        "valid_to",
        "stream_rate",
        "download_rate",
        "cross_collateral_group",
    ]
    stream_rate = percent_column("rate_stream", gettext_lazy("stream rate"))
    download_rate = percent_column("rate_download", gettext_lazy("download rate"))
    list_filter = ["cross_collateral_group"]
    search_fields = ["name", "artists", "isrcs", "upcs", "splits__payee__name"]
    inlines = [ContractSplitInline, ContractRateInline]


@admin.register(RoyaltyLedgerEntry)
class RoyaltyLedgerEntryAdmin(admin.ModelAdmin):
    """Advances, costs and adjustments are added here (`services.post_entry`); nothing posted is
    changed or deleted. An entry's page shows its exact amount."""

    form = LedgerEntryForm
    # The royalty run is on the entry's page: with it the list no longer fits 1280 px.
    list_display = ["date", "payee", "contract", "kind", "amount_shown", "memo"]
    list_filter = ["kind", "currency", "date"]
    list_select_related = ["payee", "contract", "royalty_run__run"]
    search_fields = ["payee__name", "contract__name", "memo"]
    autocomplete_fields = ["payee", "contract"]
    amount_shown = money_column("amount", gettext_lazy("amount"))
    readonly_fields = ["exact_amount"]

    @admin.display(description=gettext_lazy("amount"))
    def exact_amount(self, obj: RoyaltyLedgerEntry) -> str:
        return admin_display.money(obj.amount, obj.currency, exact=True)

    def get_fields(self, request, obj=None) -> list[str]:
        if obj is None:
            return list(self.form.Meta.fields)
        return [
            "payee",
            "contract",
            "kind",
            "exact_amount",
            "date",
            "royalty_run",
            "releases",
            "memo",
            "created_at",
        ]

    def save_model(self, request, obj: RoyaltyLedgerEntry, form: LedgerEntryForm, change: bool) -> None:
        data = form.cleaned_data
        entry = services.post_entry(
            payee=data["payee"],
            contract=data["contract"],
            kind=obj.kind,
            amount=form.service_amount,
            currency=data["currency"],
            date=data["date"],
            memo=data["memo"],
        )
        obj.pk, obj.amount, obj.created_at = entry.pk, entry.amount, entry.created_at

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoyaltyRun)
class RoyaltyRunAdmin(admin.ModelAdmin):
    list_display = ["sequence", "run", "finalized_at", "finalized_by"]
    actions = [create_payment_batch, issue_invoices]
    readonly_fields = ["run", "sequence", "finalized_at", "finalized_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoyaltyArchive)
class RoyaltyArchiveAdmin(admin.ModelAdmin):
    """The statements zips built in the background: progress, and why one failed."""

    list_display = ["run", "status", "progress", "requested_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in RoyaltyArchive._meta.fields]

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, obj: RoyaltyArchive) -> str:
        return f"{obj.processed}/{obj.total}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaymentDetailsChange)
class PaymentDetailsChangeAdmin(admin.ModelAdmin):
    """Payment details a payee submitted: approve (they become the payee's) or reject them."""

    list_display = ["payee", "status", "submitted_by", "submitted_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["payee", "submitted_by", "decided_by"]
    search_fields = ["payee__name"]
    readonly_fields = [
        "payee",
        "submitted_details",
        "status",
        "submitted_by",
        "submitted_at",
        "decided_by",
        "decided_at",
        "reason",
    ]
    exclude = ["details"]
    actions = ["approve", "reject"]

    def has_add_permission(self, request) -> bool:
        # A change is submitted by a payee on the portal; staff edit the payee itself.
        return False

    @admin.display(description=gettext_lazy("details"))
    def submitted_details(self, obj: PaymentDetailsChange) -> str:
        labels = {field.name: field.verbose_name for field in Payee._meta.fields}
        shown = {**obj.details}
        if "payment_method" in shown:
            shown["payment_method"] = PaymentMethod(shown["payment_method"]).label
        return admin_display.readable({str(labels[name]): value for name, value in shown.items()})

    @admin.action(description=gettext_lazy("Approve the selected changes"))
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, payee_details.approve_payment_details_change)

    @admin.action(description=gettext_lazy("Reject the selected changes"))
    def reject(self, request, queryset) -> None:
        self._decide(request, queryset, payee_details.reject_payment_details_change)

    def _decide(self, request, queryset, decide) -> None:
        done = 0
        for change in queryset:
            try:
                decide(change=change, by_user=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{change.payee}: {exc.message}", messages.ERROR)
        if done:
            decided = ngettext("%(count)d change decided.", "%(count)d changes decided.", done)
            self.message_user(request, decided % {"count": done}, messages.SUCCESS)


# --- the catalogue ---------------------------------------------------------------------------------


class ReleaseResource(resources.ModelResource):
    """One row per release; a row with a known UPC updates it."""

    class Meta:
        model = Release
        import_id_fields = ["upc"]
        fields = ["upc", "title", "artists", "label"]
        export_order = fields
        skip_unchanged = True


class TrackResource(resources.ModelResource):
    """One row per track; a row with a known ISRC updates it; `release` is the release's UPC (the
    release must be in the catalogue: import releases first)."""

    release = fields.Field(
        attribute="release", column_name="release", widget=widgets.ForeignKeyWidget(Release, field="upc")
    )

    class Meta:
        model = Track
        import_id_fields = ["isrc"]
        fields = ["isrc", "title", "artists", "release"]
        export_order = fields
        skip_unchanged = True


@admin.register(Release)
class ReleaseAdmin(ImportExportModelAdmin):
    resource_classes = [ReleaseResource]
    list_display = ["upc", "title", "artists", "label"]
    list_filter = ["label"]
    search_fields = ["upc", "title", "artists", "label"]


@admin.register(Track)
class TrackAdmin(ImportExportModelAdmin):
    resource_classes = [TrackResource]
    list_display = ["isrc", "title", "artists", "release"]
    list_select_related = ["release"]
    search_fields = ["isrc", "title", "artists", "release__upc", "release__title"]
    autocomplete_fields = ["release"]


@admin.register(LabelIncome)
class LabelIncomeAdmin(admin.ModelAdmin):
    """Marked from a run's unmatched income page; removing one here puts its lines back in
    suspense (in drafts), through the service, so it is in the audit trail."""

    list_display = ["scope", "value", "note", "created_by", "created_at"]
    list_filter = ["scope"]
    search_fields = ["value", "note"]
    readonly_fields = fields = ["scope", "value", "note", "created_by", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: LabelIncome) -> None:
        services.unmark_label_income(label_income=obj, user=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            services.unmark_label_income(label_income=obj, user=request.user)
