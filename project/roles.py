"""The groups that grant access; created by a data migration."""

OPERATORS = "operators"
BACK_OFFICE = "back-office"
ALL_GROUPS = (OPERATORS, BACK_OFFICE)


def user_in_group(user, *groups: str) -> bool:
    """Staff pass every group check; others need membership in one of `groups`."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name__in=groups).exists()
