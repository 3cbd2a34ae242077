"""Forms of the sessions page: the manual upload and the close confirmation."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class ManualUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Invoice file (Letture…_N.txt)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.INGESTION_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload


class CloseForm(forms.Form):
    force = forms.BooleanField(
        required=False,
        label=gettext_lazy("Force-close: records not processed yet will not be processed today"),
    )
