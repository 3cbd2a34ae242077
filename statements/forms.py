"""Forms of the statement-run pages. Values are checked with the same rules as the JSON API
(`statements.rates`), so a rate the page accepts is one the API accepts, and vice versa."""

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from statements import mapping, rates
from statements.cleaners.dsr import ANY_PROFILE, DEFAULT_BASIS, bases_by_profile
from statements.models import ImportProfile, RevenueBasis

MAX_RATE_UPLOAD = 5 * 1024 * 1024
_SEPARATORS = re.compile(r"[,;\n]")


def _split(text: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def _period(value: str) -> str:
    value = value.strip()
    if value and not rates.valid_period(value):
        raise ValidationError(_("%(period)s is not a month as YYYY-MM.") % {"period": value})
    return value


class RunForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    currency = forms.CharField(
        label=gettext_lazy("Statement currency"),
        initial="EUR",
        max_length=3,
        help_text=gettext_lazy("ISO 4217 code; every amount is converted to it."),
    )
    artists = forms.CharField(
        label=gettext_lazy("Artists"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One per line or separated by commas; empty means every artist."),
    )
    dsps = forms.CharField(
        label=gettext_lazy("DSPs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One per line or separated by commas; empty means every DSP."),
    )
    periods = forms.CharField(
        label=gettext_lazy("Months"),
        required=False,
        help_text=gettext_lazy("YYYY-MM, separated by commas; or a range below; empty means any."),
    )
    period_from = forms.CharField(label=gettext_lazy("From month"), required=False, max_length=7)
    period_to = forms.CharField(label=gettext_lazy("To month"), required=False, max_length=7)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not rates.storable(name):
            raise ValidationError(_("The name holds characters that cannot be stored."))
        return name

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if not rates.valid_currency(currency):
            raise ValidationError(_("%(code)s is not an ISO 4217 currency code.") % {"code": currency})
        return currency

    def clean_artists(self) -> list[str]:
        return self._names("artists")

    def clean_dsps(self) -> list[str]:
        return self._names("dsps")

    def _names(self, field: str) -> list[str]:
        names = _split(self.cleaned_data[field])
        if not all(rates.storable(name) and len(name) <= 200 for name in names):
            raise ValidationError(_("A name is too long or holds characters that cannot be stored."))
        return names

    def clean_periods(self) -> list[str]:
        return [_period(value) for value in _split(self.cleaned_data["periods"])]

    def clean_period_from(self) -> str:
        return _period(self.cleaned_data["period_from"])

    def clean_period_to(self) -> str:
        return _period(self.cleaned_data["period_to"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("period_from") and data.get("period_to") and data["period_from"] > data["period_to"]:
            self.add_error("period_to", _("The range ends before it starts."))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploaded files, each checked as a FileField checks one."""

    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list:
        files = (data or [None]) if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


def _basis_choices() -> list[tuple[str, str]]:
    """The bases, after the installation's default (STATEMENTS_DSR_REVENUE_BASIS), named."""
    bases = bases_by_profile(settings.STATEMENTS_DSR_REVENUE_BASIS)
    named = [
        str(RevenueBasis(basis).label)
        if profile == ANY_PROFILE
        else f"{profile}: {RevenueBasis(basis).label}"
        for profile, basis in bases.items()
    ]
    if ANY_PROFILE not in bases:
        named.append(str(RevenueBasis(DEFAULT_BASIS).label))
    return [("", _("Default: %(basis)s") % {"basis": "; ".join(named)}), *RevenueBasis.choices]


class RevenueBasisForm(forms.Form):
    """A DDEX DSR file's income column (blank: the default), with "Process again"."""

    revenue_basis = forms.ChoiceField(label=gettext_lazy("Revenue basis"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revenue_basis"].choices = _basis_choices()


class SalesFilesForm(forms.Form):
    """Upload without JavaScript: the files go through the server (the page's script uploads
    them straight to the storage instead, with a progress bar per file)."""

    files = MultipleFileField(
        label=gettext_lazy("Sales files"),
        widget=MultipleFileInput(attrs={"multiple": True}),
        error_messages={"required": gettext_lazy("Choose at least one file.")},
    )
    profile = forms.ChoiceField(
        label=gettext_lazy("Format"),
        required=False,
        help_text=gettext_lazy("Leave on automatic unless a file is not recognised."),
    )
    revenue_basis = forms.ChoiceField(
        label=gettext_lazy("Revenue basis"),
        required=False,
        help_text=gettext_lazy("DDEX DSR files only: which column is income."),
    )

    def __init__(self, *args, profiles: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = [("", _("Automatic")), ("ddex_dsr", "DDEX DSR"), *profiles]
        self.fields["revenue_basis"].choices = _basis_choices()

    def clean_files(self) -> list:
        uploads = self.cleaned_data["files"]
        limit = settings.STATEMENTS_MAX_UPLOAD_BYTES
        for upload in uploads:
            if upload.size > limit:
                raise ValidationError(
                    _("%(name)s is larger than the %(limit)s-byte limit.")
                    % {"name": upload.name, "limit": limit}
                )
            if not upload.name or len(upload.name) > 255 or not rates.storable(upload.name):
                raise ValidationError(_("%(name)s is not a usable file name.") % {"name": upload.name})
        return uploads


class RateRowForm(forms.Form):
    """One row of the rates table; an all-empty row is ignored."""

    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)
    period = forms.CharField(label=gettext_lazy("Month"), required=False, max_length=7)
    rate = forms.CharField(label=gettext_lazy("Rate"), required=False, max_length=40)

    parse = staticmethod(rates.parse_rates)

    def item(self) -> dict | None:
        """The row as the API's item, or None when the row is empty or deleted."""
        data = self.cleaned_data
        if not data or data.get("DELETE") or not any(data.get(name) for name in self.base_fields):
            return None
        return {name: data.get(name) or "" for name in self.base_fields}

    def clean(self) -> dict:
        data = super().clean()
        item = self.item()
        if item is not None:
            _, problems = self.parse([item])
            for problem in problems:
                # "item 1: rate 'x' is not a number" → the reason; the row is where it shows.
                self.add_error(None, problem.partition(": ")[2])
        return data


class ExceptionRowForm(RateRowForm):
    """One row of the exceptions table: a rate for a DSP and/or a sales file (optionally a month)."""

    dsp = forms.CharField(
        label="DSP", required=False, max_length=200, widget=forms.TextInput(attrs={"list": "known-dsps"})
    )
    salesfile = forms.TypedChoiceField(
        label=gettext_lazy("Sales file"), required=False, coerce=int, empty_value=None
    )

    parse = staticmethod(rates.parse_exceptions)

    field_order = ["currency", "dsp", "salesfile", "period", "rate"]

    def __init__(self, *args, sales_files: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["salesfile"].choices = [("", "—"), *sales_files]


class PayeeRateRowForm(RateRowForm):
    """One row of the payee currency rates table: 1 unit of the run's currency in a payee's currency."""

    period = None
    source = forms.CharField(label=gettext_lazy("Source"), required=False, max_length=200)
    date = forms.CharField(
        label=gettext_lazy("Rate date"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD"}),
    )

    parse = staticmethod(rates.parse_payee_rates)


class BaseRowFormSet(forms.BaseFormSet):
    """The whole table is the new set; duplicates across rows are found by the same parser."""

    items: list[dict]

    def clean(self) -> None:
        """`items`: the parsed rows, as the service takes them."""
        if any(self.errors):
            return
        self.items, problems = self.form.parse(
            [item for form in self.forms if (item := form.item()) is not None]
        )
        if problems:
            raise ValidationError(problems)


RateFormSet = forms.formset_factory(RateRowForm, formset=BaseRowFormSet, extra=3, can_delete=True)
ExceptionFormSet = forms.formset_factory(ExceptionRowForm, formset=BaseRowFormSet, extra=2, can_delete=True)
PayeeRateFormSet = forms.formset_factory(PayeeRateRowForm, formset=BaseRowFormSet, extra=2, can_delete=True)


class RateUploadForm(forms.Form):
    REPLACE, MERGE = "replace", "merge"

    file = forms.FileField(label=gettext_lazy("CSV file"))
    mode = forms.ChoiceField(
        label=gettext_lazy("What the file does"),
        choices=[
            (REPLACE, gettext_lazy("Replace: the file becomes the whole set (rows not in it are removed)")),
            (MERGE, gettext_lazy("Merge: the file's rows are added or overwrite the same key; others stay")),
        ],
        initial=REPLACE,
        widget=forms.RadioSelect,
    )

    def merged(self, parse, current: list[dict]) -> tuple[list[dict], list[str]]:
        """The new set and the file's problems: on merge, an uploaded row replaces the current row
        with the same key (currency and month; for an exception also DSP and sales file)."""
        uploaded, problems = parse(self.cleaned_data["file"])
        if problems or self.cleaned_data["mode"] == self.REPLACE:
            return uploaded, problems
        keyed = {_key(item): item for item in current}
        keyed.update({_key(item): item for item in uploaded})
        return list(keyed.values()), []

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_RATE_UPLOAD:
            raise ValidationError(_("The file is larger than 5 MiB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text.")) from None


def _key(item: dict) -> tuple:
    return (item["currency"], item.get("dsp", "").lower(), item.get("salesfile"), item.get("period"))


# Our fields as the mapping page names them.
MAPPING_LABELS = {
    "period": gettext_lazy("Period or sale date"),
    "dsp": gettext_lazy("DSP (store)"),
    "territory": gettext_lazy("Territory"),
    "isrc": gettext_lazy("ISRC"),
    "upc": gettext_lazy("UPC"),
    "artist": gettext_lazy("Artist"),
    "title": gettext_lazy("Title"),
    "release": gettext_lazy("Release"),
    "units": gettext_lazy("Units"),
    "revenue": gettext_lazy("Revenue"),
    "currency": gettext_lazy("Currency"),
    "sale_type": gettext_lazy("Sale type"),
    "void": gettext_lazy("Void/return marker"),
    "commercial_model": gettext_lazy("Commercial model"),
}


class MappingForm(forms.Form):
    """A column picker per field, fixed values, date order and decimal separator: a
    `statements.mapping.Mapping` (checked against the file by `mapping.preview`)."""

    date_order = forms.ChoiceField(label=gettext_lazy("Date order"), choices=ImportProfile.DateOrder.choices)
    decimal_separator = forms.ChoiceField(
        label=gettext_lazy("Decimal separator"),
        choices=ImportProfile.DecimalSeparator.choices,
        required=False,
    )
    void_values = forms.CharField(
        label=gettext_lazy("Values that mark a void or return"),
        required=False,
        help_text=gettext_lazy(
            "In the void column (or the sale type), separated by commas, e.g. Void, Return."
        ),
    )
    skip_values = forms.CharField(
        label=gettext_lazy("Sale types of rows to skip"),
        required=False,
        help_text=gettext_lazy(
            "Rows that are no sales, e.g. Payout. Totals rows and text trailers are skipped anyway."
        ),
    )
    skip_markers = forms.CharField(
        label=gettext_lazy("Skip rows holding"),
        required=False,
        help_text=gettext_lazy(
            "Values that, in any column, mark a row that is no sale (totals, trailers), separated by "
            "commas, e.g. Total, Subtotal."
        ),
    )
    name = forms.CharField(label=gettext_lazy("Import profile name"), max_length=200)
    save = forms.BooleanField(
        label=gettext_lazy("Read every file with this header this way from now on"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, columns: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((column, column) for column in dict.fromkeys(columns))]
        for name, label in MAPPING_LABELS.items():
            self.fields[f"column_{name}"] = forms.ChoiceField(label=label, choices=choices, required=False)
        for name in mapping.FIXABLE:
            self.fields[f"fixed_{name}"] = forms.CharField(
                label=MAPPING_LABELS[name], required=False, max_length=200
            )

    def column_fields(self) -> list:
        return [self[f"column_{name}"] for name in MAPPING_LABELS]

    def fixed_fields(self) -> list:
        return [self[f"fixed_{name}"] for name in mapping.FIXABLE]

    def mapping(self) -> mapping.Mapping:
        data = self.cleaned_data
        return mapping.Mapping(
            columns={name: data[f"column_{name}"] for name in MAPPING_LABELS if data[f"column_{name}"]},
            fixed={name: data[f"fixed_{name}"] for name in mapping.FIXABLE if data[f"fixed_{name}"].strip()},
            date_order=data["date_order"],
            decimal_separator=data["decimal_separator"],
            void_values=_split(data["void_values"]),
            skip_values=_split(data["skip_values"]),
            skip_markers=_split(data["skip_markers"]),
        )
