from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """Cross-cutting pieces every app uses: API tokens, the email outbox, groups, schedules."""

    name = "project"
    verbose_name = "Platform"
