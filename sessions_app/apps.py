from django.apps import AppConfig


class SessionsConfig(AppConfig):
    """The operators' daily shipping session: the four-button page and the session run."""

    name = "sessions_app"
    verbose_name = "Sessions"
