"""Which payee a portal user is: one payee per user, a user who is never staff."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from statements.royalties.models import Payee


class PortalAccount(models.Model):
    """A user's access to one payee's statements in the portal, from the staff invitation on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="payee_account",
        verbose_name=_("user"),
    )
    payee = models.ForeignKey(
        Payee, on_delete=models.CASCADE, related_name="portal_accounts", verbose_name=_("payee")
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("invited by"),
    )
    invited_at = models.DateTimeField(verbose_name=_("invited at"))
    activated_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the payee set a password."), verbose_name=_("activated at")
    )

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")
        ordering = ["payee", "pk"]

    def __str__(self) -> str:
        return f"{self.user} → {self.payee}"
