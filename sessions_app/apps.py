from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SessionsConfig(AppConfig):
    """The operators' daily shipping session: the four-button page and the session run."""

    name = "sessions_app"
    verbose_name = _("Sessions")
