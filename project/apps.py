from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """Cross-cutting pieces every app uses: API tokens, the email outbox, groups, schedules."""

    name = "project"
    verbose_name = "Platform"

    def ready(self) -> None:
        from project import audit  # noqa: F401 (connects the audit trail's signal receiver)
