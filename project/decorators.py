"""Page guards: login required, then group membership (staff always pass)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from project.roles import user_in_group


def group_required(*groups: str) -> Callable:
    """Redirect anonymous users to login; answer 403 to users outside `groups`."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not user_in_group(request.user, *groups):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
