"""Forms of the royalty screens, in the terms a royalty team uses: rates in percent (stored as the
fraction, exactly), scopes as plain lists, ledger amounts entered positive with the kind giving the
sign (`services.post_entry`)."""

import json
import re
from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.validators import RegexValidator
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from statements.royalties.models import Contract, ContractRate, LabelIncome, Payee, RoyaltyLedgerEntry
from statements.royalties.payee_details import (
    STAFF_DETAILS,
    check_details,
    currency_change_problems,
    method_problems,
)
from statements.royalties.percent import PERCENT, fraction_of, percent_of

K = RoyaltyLedgerEntry.Kind
RATE_FIELDS = ("rate_stream", "rate_download", "rate_physical", "rate_other", "reserve_rate")


class PercentInput(forms.NumberInput):
    """Shows a stored fraction as the percent it stands for (a re-shown form keeps what was typed)."""

    def format_value(self, value):
        if isinstance(value, Decimal):
            value = f"{percent_of(value):f}"
        return super().format_value(value)


class PercentField(forms.DecimalField):
    """A rate typed in percent (25 or 12.5) and cleaned to the stored fraction (0.25, 0.125)."""

    widget = PercentInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal(100))
        super().__init__(max_digits=PERCENT["max_digits"], decimal_places=PERCENT["decimal_places"], **kwargs)
        self.widget.attrs.setdefault("step", "any")

    def clean(self, value) -> Decimal | None:
        return fraction_of(super().clean(value))


class ScopeWidget(forms.SelectMultiple):
    """A contract's scope list picked from the catalogue as you type (the admin's select2 and its
    autocomplete script, fed by `pages.catalogue_suggestions`); a value the catalogue does not know
    yet is typed and kept as it is. Without JavaScript it is a list of the values already chosen."""

    def __init__(self, *, field_name: str, separators: str) -> None:
        super().__init__(
            attrs={
                "class": "admin-autocomplete",
                "data-ajax--url": reverse_lazy("statements:catalogue-suggestions"),
                "data-ajax--delay": 250,
                "data-app-label": "statements",
                "data-model-name": "contract",
                "data-field-name": field_name,
                "data-theme": "admin-autocomplete",
                "data-tags": "true",
                "data-placeholder": "",
            }
        )
        if separators:  # typed codes split into items at these characters
            self.attrs["data-token-separators"] = json.dumps(list(separators))

    def get_context(self, name, value, attrs) -> dict:
        self.choices = [(item, item) for item in self.format_value(value)]
        return super().get_context(name, value, attrs)

    @property
    def media(self) -> forms.Media:
        return AutocompleteSelectMultiple(None, None).media


class ListField(forms.Field):
    """A list of artist names, or of codes (upper-cased; also typed separated by commas, semicolons
    or spaces, which artist names may hold: "Earth, Wind & Fire"); stored as the JSON list of
    strings the contract always had."""

    def __init__(self, *, field_name: str, codes: bool = False, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(
            widget=ScopeWidget(field_name=field_name, separators=",; " if codes else ""), **kwargs
        )
        self.separators = re.compile(r"[\n,;\s]+" if codes else r"\n+")
        self.upper = codes

    def prepare_value(self, value) -> list[str]:
        return self.to_python(value)

    def to_python(self, value) -> list[str]:
        items = []
        for typed in value if isinstance(value, list | tuple) else [value]:
            for item in self.separators.split(str(typed or "")):
                item = item.strip().upper() if self.upper else " ".join(item.split())
                if item and item not in items:
                    items.append(item)
        return items

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial or []) != self.to_python(data)


class ContractForm(forms.ModelForm):
    # Artist names may hold commas ("Earth, Wind & Fire"): one per line. Codes never do.
    artists = ListField(
        field_name="artists",
        label=_("artists"),
        help_text=_("Artist names: pick from the catalogue or type a name (e.g. Seelenluft)."),
    )
    upcs = ListField(
        field_name="upcs",
        codes=True,
        label=_("upcs"),
        help_text=_("Releases: pick from the catalogue by title, artist or UPC, or type UPCs/EANs."),
    )
    isrcs = ListField(
        field_name="isrcs",
        codes=True,
        label=_("isrcs"),
        help_text=_("Tracks: pick from the catalogue by title, artist or ISRC, or type ISRCs."),
    )
    rate_stream = PercentField(label=_("stream rate (%)"), help_text=_("Percent of net receipts, e.g. 20."))
    rate_download = PercentField(label=_("download rate (%)"))
    rate_physical = PercentField(label=_("physical rate (%)"))
    rate_other = PercentField(label=_("other rate (%)"))
    reserve_rate = PercentField(
        label=_("reserve rate (%)"),
        initial=Decimal(0),
        help_text=_("Percent of download and physical earnings withheld as a reserve."),
    )

    class Meta:
        model = Contract
        fields = [
            "name",
            "artists",
            "upcs",
            "isrcs",
            "valid_from",
            "valid_to",
            "basis",
            *RATE_FIELDS,
            "reserve_periods",
            "cross_collateral_group",
        ]


class ContractRateForm(forms.ModelForm):
    rate = PercentField(label=_("rate (%)"))

    class Meta:
        model = ContractRate
        fields = ["contract", "sale_type", "dsp", "territory", "rate"]


class LedgerEntryForm(forms.ModelForm):
    """A hand-posted entry: its kind says which way it moves the balance; the amount is positive."""

    CREDIT, DEBIT = "adjustment_credit", "adjustment_debit"
    ENTRY_KINDS = {
        K.ADVANCE: (K.ADVANCE, -1),
        K.COST: (K.COST, -1),
        CREDIT: (K.ADJUSTMENT, 1),
        DEBIT: (K.ADJUSTMENT, -1),
    }

    entry_kind = forms.ChoiceField(
        label=_("kind"),
        choices=[
            (K.ADVANCE, _("Advance (debits the balance, recouped from earnings)")),
            (K.COST, _("Recoupable cost (debits the balance)")),
            (CREDIT, _("Adjustment: credit (adds to the balance)")),
            (DEBIT, _("Adjustment: debit (takes from the balance)")),
        ],
    )
    amount = forms.DecimalField(
        label=_("amount"),
        min_value=Decimal(0),
        max_digits=RoyaltyLedgerEntry._meta.get_field("amount").max_digits,
        decimal_places=RoyaltyLedgerEntry._meta.get_field("amount").decimal_places,
        help_text=_("A positive amount; the kind gives the sign."),
    )
    currency = forms.CharField(
        label=_("currency"),
        required=False,
        max_length=3,
        validators=[RegexValidator(r"^[A-Za-z]{3}$", _("A three-letter currency code, e.g. EUR."))],
        help_text=_("Empty: the payee's statement currency."),
    )
    date = forms.DateField(label=_("date"), initial=timezone.localdate)

    class Meta:
        model = RoyaltyLedgerEntry
        fields = ["payee", "contract", "entry_kind", "amount", "currency", "date", "memo"]

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        return amount

    def clean(self) -> dict:
        data = super().clean()
        if "entry_kind" in data and "amount" in data:
            kind, sign = self.ENTRY_KINDS[data["entry_kind"]]
            self.instance.kind = kind
            # The service takes advances and costs positive and debits them; an adjustment signed.
            self.service_amount = data["amount"] if kind != K.ADJUSTMENT else sign * data["amount"]
            data["amount"] = sign * data["amount"]  # the stored, signed amount the model validates
        if not data.get("currency") and data.get("payee"):
            data["currency"] = data["payee"].currency
        elif data.get("currency"):
            data["currency"] = data["currency"].upper()
        return data


class CheckedDetails(forms.ModelForm):
    """A form over a payee's details checked as the services check them, each problem on its field
    in the reader's language (before the model's constraints, which would name only themselves)."""

    def clean(self) -> dict:
        data = super().clean()
        clean, problems = check_details({f: data[f] for f in STAFF_DETAILS if f in data})
        problems += method_problems({**data, **clean})
        for problem in problems:
            field = problem["loc"][0]
            self.add_error(field if field in self.fields else None, problem["msg"])
        data.update(clean)
        return data


class PayeeForm(CheckedDetails):
    """A payee with their details checked as the services check them (tax id for the country,
    IBAN/BIC, the chosen payment method's account; a currency changed only with its balance
    settled): saved, the change is in the audit trail."""

    def clean(self) -> dict:
        data = super().clean()
        if self.instance.pk is not None:
            saved = Payee.objects.get(pk=self.instance.pk)  # its currency as stored, whatever was typed
            for problem in currency_change_problems(saved, data.get("currency") or ""):
                self.add_error("currency", problem["msg"])
        return data

    class Meta:
        model = Payee
        fields = [
            "name",
            "email",
            "currency",
            "minimum_payout",
            "active",
            "email_statements",
            "address",
            "country",
            "tax_id",
            "vat_status",
            "withholding_rate",
            "payment_method",
            "iban",
            "bic",
            "paypal_email",
            "wise_email",
        ]


class UnmatchedActionForm(forms.Form):
    """An action on a group of unmatched lines: add its ISRC, UPC or artist (`match`, "scope:value")
    to a contract's scope (the contract by name), or keep its income as the label's."""

    SCOPE, LABEL = "scope", "label_income"
    action = forms.ChoiceField(choices=[(SCOPE, SCOPE), (LABEL, LABEL)])
    match = forms.CharField(max_length=520)
    contract = forms.CharField(label=_("contract"), required=False, max_length=200)
    note = forms.CharField(label=_("note"), required=False, max_length=300)

    def clean_match(self) -> tuple[str, str]:
        scope, _sep, value = self.cleaned_data["match"].partition(":")
        if scope not in LabelIncome.Scope.values or not value.strip():
            raise forms.ValidationError(_("Choose the ISRC, UPC or artist to match."))
        return scope, value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") == self.SCOPE:
            name = (data.get("contract") or "").strip()
            data["contract"] = Contract.objects.filter(name=name).first()
            if data["contract"] is None:
                self.add_error("contract", _("No contract is named “%(name)s”.") % {"name": name})
        return data
