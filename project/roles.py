"""The groups that grant access; created by a data migration."""

OPERATORS = "operators"
BACK_OFFICE = "back-office"
ALL_GROUPS = (OPERATORS, BACK_OFFICE)
# Payees' own users (the payee portal): never staff, no back-office page, no API token.
PAYEES = "payees"


def user_in_group(user, *groups: str) -> bool:
    """Staff pass every group check; others need membership in one of `groups`."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name__in=groups).exists()


def is_payee_user(user) -> bool:
    """A payee's portal user (group PAYEES), who sees nothing but the portal."""
    return user.is_authenticated and not user.is_staff and user.groups.filter(name=PAYEES).exists()
