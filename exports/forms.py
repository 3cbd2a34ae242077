"""Forms of the exports page: the document filters and the export/delete actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from exports import services
from exports.models import DocumentType
from exports.selectors import DocumentFilters
from project.errors import InvalidInput


class DocumentFilterForm(forms.Form):
    created_from = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Created to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    invoice_from = forms.DateField(
        label=_("Invoice date from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    invoice_to = forms.DateField(
        label=_("Invoice date to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("all types")), *DocumentType.choices]
    )
    status = forms.CharField(label=_("Status"), required=False, max_length=30)

    def filters(self) -> DocumentFilters:
        """The valid filters (an invalid form filters nothing)."""
        if not self.is_valid():
            return DocumentFilters()
        return DocumentFilters(**self.cleaned_data)


class ExportForm(forms.Form):
    """ext and noLog of a new export; the selected `ids` checkboxes are read as a list."""

    ext = forms.CharField(
        label=_("Name suffix"),
        required=False,
        max_length=50,
        help_text=_(
            "Optional: added to the file's name, e.g. “q4” gives purchase-export-20261207-131935-q4.xlsx."
            " Letters, digits and . _ - ( ); spaces become hyphens."
        ),
    )
    no_log = forms.BooleanField(required=False, label=_("Do not log (test export)"))
    corrections = forms.BooleanField(
        required=False, label=_("As corrections (earlier exported rows reversed, then the current rows)")
    )

    def clean_ext(self) -> str:
        try:
            return services.clean_ext(self.cleaned_data["ext"])
        except InvalidInput:
            raise forms.ValidationError(
                _(
                    "The name suffix may only hold letters, digits, spaces and . _ - ( ),"
                    " and must start with a letter or digit."
                )
            ) from None


class DeleteExportForm(forms.Form):
    filename = forms.CharField(max_length=255)


class DemoForm(forms.Form):
    action = forms.ChoiceField(choices=[(name, name) for name in ("add", "pay", "amend", "delete")])
    document = forms.RegexField(r"^\d{1,32}$", required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") not in (None, "add") and not data.get("document"):
            raise forms.ValidationError(_("Pick a document first."))
        return data
