"""Admin of royalty accounting: payees, contracts (with rate overrides and splits; import/export
as CSV or xlsx through django-import-export) and the append-only ledger."""

from decimal import Decimal, InvalidOperation

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from statements.royalties import services
from statements.royalties.models import (
    Contract,
    ContractRate,
    ContractSplit,
    Payee,
    RoyaltyArchive,
    RoyaltyLedgerEntry,
    RoyaltyRun,
)

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


LIST_FIELDS = ("artists", "upcs", "isrcs")


class ContractResource(resources.ModelResource):
    """One row per contract; a contract with the same name is updated, its splits replaced."""

    artists = fields.Field(attribute="artists", column_name="artists", widget=ListWidget())
    upcs = fields.Field(attribute="upcs", column_name="upcs", widget=ListWidget())
    isrcs = fields.Field(attribute="isrcs", column_name="isrcs", widget=ListWidget())
    splits = fields.Field(attribute="pending_splits", column_name="splits", widget=SplitsWidget())

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
    extra = 0


@admin.register(Payee)
class PayeeAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "currency", "minimum_payout", "active", "email_statements"]
    list_filter = ["active", "currency", "email_statements"]
    search_fields = ["name", "email"]


@admin.register(Contract)
class ContractAdmin(ImportExportModelAdmin):
    resource_classes = [ContractResource]
    list_display = [
        "name",
        "valid_from",
        "valid_to",
        "rate_stream",
        "rate_download",
        "cross_collateral_group",
    ]
    list_filter = ["cross_collateral_group"]
    search_fields = ["name", "artists", "isrcs", "upcs", "splits__payee__name"]
    inlines = [ContractSplitInline, ContractRateInline]


@admin.register(RoyaltyLedgerEntry)
class RoyaltyLedgerEntryAdmin(admin.ModelAdmin):
    """Advances, costs and adjustments are added here; nothing posted is changed or deleted."""

    list_display = ["date", "payee", "contract", "kind", "amount", "currency", "royalty_run", "memo"]
    list_filter = ["kind", "currency", "date"]
    search_fields = ["payee__name", "contract__name", "memo"]
    raw_id_fields = ["payee", "contract", "royalty_run", "releases"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoyaltyRun)
class RoyaltyRunAdmin(admin.ModelAdmin):
    list_display = ["sequence", "run", "finalized_at", "finalized_by"]
    readonly_fields = ["run", "sequence", "finalized_at", "finalized_by"]
    exclude = ["document"]

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
