from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectConfig(AppConfig):
    """Cross-cutting pieces every app uses: API tokens, the email outbox, groups, schedules."""

    name = "project"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from project import audit  # noqa: F401 (connects the audit trail's signal receiver)
