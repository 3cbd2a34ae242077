"""Login lockout (django-axes): the backend that refuses locked-out users, and the client address
it counts failures by."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check for every login through a web form. `authenticate()` calls without a request
    (Django's test client, a shell) come from no web client, so there is nothing to count them by."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs
    ):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The address failures are counted by. Behind our reverse proxy (DJANGO_BEHIND_PROXY) it is the
    last X-Forwarded-For entry, the one the proxy itself appended (earlier ones are the client's
    word); otherwise the socket's peer."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.DJANGO_BEHIND_PROXY and forwarded.strip():
        return forwarded.rsplit(",", 1)[-1].strip()
    return request.META.get("REMOTE_ADDR")
