from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _

# The admin names of the third-party apps: django-q2, django-axes and django-auditlog ship no Italian,
# so their apps and models are named here, in our catalogue (the Italian admin showed "Failed tasks").
THIRD_PARTY_NAMES = {
    "django_q": (
        _("Background tasks"),
        {
            "schedule": (_("scheduled task"), _("scheduled tasks")),
            "success": (_("successful task"), _("successful tasks")),
            "failure": (_("failed task"), _("failed tasks")),
            "ormq": (_("queued task"), _("queued tasks")),
        },
    ),
    "axes": (
        _("Login attempts"),
        {
            "accessattempt": (_("access attempt"), _("access attempts")),
            "accesslog": (_("access log"), _("access logs")),
            "accessfailurelog": (_("access failure"), _("access failures")),
            "accessattemptexpiration": (_("access attempt expiration"), _("access attempt expirations")),
        },
    ),
    "auditlog": (_("Audit log"), {"logentry": (_("log entry"), _("log entries"))}),
}


class ProjectConfig(AppConfig):
    """Cross-cutting pieces every app uses: API tokens, the email outbox, groups, schedules."""

    name = "project"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from project import audit  # noqa: F401 (connects the audit trail's signal receiver)

        name_third_party_apps()


def name_third_party_apps() -> None:
    """Display names only: the migrations read the models' own Meta (`original_attrs`), unchanged."""
    for label, (app_name, models) in THIRD_PARTY_NAMES.items():
        if not apps.is_installed(label):
            continue
        config = apps.get_app_config(label)
        config.verbose_name = app_name
        for model_name, (singular, plural) in models.items():
            model = config.models.get(model_name)
            if model is not None:
                model._meta.verbose_name, model._meta.verbose_name_plural = singular, plural
