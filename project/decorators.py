"""Page guards: login required, then group membership (staff always pass)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from project.roles import BACK_OFFICE, OPERATORS, user_in_group

# Who a group's pages are for, as the 403 page says it.
AUDIENCES = {OPERATORS: gettext_lazy("warehouse operators"), BACK_OFFICE: gettext_lazy("back-office staff")}


def group_required(*groups: str) -> Callable:
    """Redirect anonymous users to login; answer 403 to users outside `groups`."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not user_in_group(request.user, *groups):
                audience = _(" or ").join(str(AUDIENCES.get(group, group)) for group in groups)
                raise PermissionDenied(_("This page is for %(audience)s.") % {"audience": audience})
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
