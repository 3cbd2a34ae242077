"""Writes of the payee portal: staff invite a payee (a user of the `payees` group, never staff, and a
one-time link to set a password), the payee sets it once."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from project.audit import record_action
from project.errors import Conflict, InvalidInput
from project.mail import queue_email
from project.roles import BACK_OFFICE, PAYEES, user_in_group
from statements.royalties.models import Payee
from statements.royalties.portal.models import PortalAccount


class InvitationTokens(PasswordResetTokenGenerator):
    """Django's password-reset tokens under their own salt: a reset link is no invitation. A token
    holds the user's password hash and last login, so it works once; it expires after
    PASSWORD_RESET_TIMEOUT."""

    key_salt = "statements.royalties.portal.InvitationTokens"


invitation_tokens = InvitationTokens()


def invite_payee(*, payee: Payee, email: str, invited_by: AbstractBaseUser, site_url: str) -> PortalAccount:
    """Make (or, not yet activated, reuse) the portal user `email` of `payee` and email it the link
    to set a password. Refused when `email` is another user's or the account is already active."""
    if not user_in_group(invited_by, BACK_OFFICE):
        raise InvalidInput("Only back-office staff invite payees.", code="not_staff")
    email = email.strip().lower()
    if not email:
        raise InvalidInput(f"Payee {payee.name!r} has no email address to invite.", code="no_email")
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=email).first()
        account = PortalAccount.objects.filter(user=user).first() if user is not None else None
        if user is not None and (account is None or account.payee_id != payee.pk):
            raise Conflict(f"The user {email} already exists for someone else.", code="user_exists")
        if account is not None and account.activated_at is not None:
            raise Conflict(f"{email} already uses the portal.", code="already_active")
        if user is None:
            user = User(username=email, email=email, is_staff=False, is_superuser=False)
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get_or_create(name=PAYEES)[0])
            account = PortalAccount(user=user, payee=payee)
        account.invited_by, account.invited_at = invited_by, timezone.now()
        account.save()
        queue_email(
            template="portal/invitation",
            context={
                "payee": payee.name,
                "link": site_url.rstrip("/") + invitation_path(user),
                "days": max(settings.PASSWORD_RESET_TIMEOUT // 86400, 1),
                "username": email,
            },
            to=[email],
        )
        record_action("royalties.portal_invited", target=payee, changes={"user": email}, user=invited_by)
    return account


def invitation_path(user: AbstractBaseUser) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("portal:invitation", kwargs={"uidb64": uid, "token": invitation_tokens.make_token(user)})


def invited_user(uidb64: str, token: str) -> AbstractBaseUser | None:
    """The user an invitation link is for; None when the link is wrong, used or expired, or the
    payee or the user is no longer active."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    accounts = PortalAccount.objects.select_related("user").filter(payee__active=True, user__is_active=True)
    account = accounts.filter(user_id=pk).first()
    if account is None or not invitation_tokens.check_token(account.user, token):
        return None
    return account.user


def activate(*, user: AbstractBaseUser, password: str) -> PortalAccount:
    """The invited payee's password (already checked by the password validators): the link it
    came by stops working, and the payee logs in as everyone does (django-axes counts failures)."""
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().get(user=user)
        user.set_password(password)
        user.save(update_fields=["password"])
        account.activated_at = timezone.now()
        account.save(update_fields=["activated_at"])
        record_action(
            "royalties.portal_activated", target=account.payee, changes={"user": user.get_username()}
        )
    return account
