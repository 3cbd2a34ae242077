"""The portal's form: the payment details a payee asks to change (they wait for staff approval)."""

from django import forms

from statements.royalties.forms import CheckedDetails
from statements.royalties.models import PAYMENT_DETAILS, Payee


class PaymentDetailsForm(CheckedDetails):
    """The payee's payment details (PAYMENT_DETAILS), checked as staff's are; checked again, and
    only submitted, by `payee_details.submit_payment_details_change`."""

    class Meta:
        model = Payee
        fields = list(PAYMENT_DETAILS)
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
