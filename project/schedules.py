"""Schedules are declared in code (`SCHEDULES` in each app's tasks.py) and written to
django-q2's table by `setup_schedules`, keyed by name so re-running never duplicates one."""

from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.db import transaction
from django.utils import timezone

NAME_PREFIX = "backoffice:"


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    cron: str | None = None
    minutes: int | None = None
    kwargs: dict = field(default_factory=dict)


def declared_schedules() -> list[ScheduleSpec]:
    specs = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tasks":
                raise
            continue
        specs.extend(getattr(module, "SCHEDULES", []))
    return specs


@transaction.atomic
def sync_schedules() -> dict[str, list[str]]:
    """Create or update every declared schedule and delete the ones no longer declared."""
    from django_q.models import Schedule

    result = {"created": [], "updated": [], "deleted": []}
    wanted = {}
    for spec in declared_schedules():
        name = NAME_PREFIX + spec.name
        wanted[name] = spec
        values = {
            "func": spec.func,
            # django-q2 stores schedule kwargs as a Python literal in a text column.
            "kwargs": repr(spec.kwargs) if spec.kwargs else None,
            "schedule_type": Schedule.CRON if spec.cron else Schedule.MINUTES,
            "cron": spec.cron,
            "minutes": spec.minutes,
            "repeats": -1,
        }
        schedule = Schedule.objects.filter(name=name).first()
        if schedule is None:
            Schedule.objects.create(name=name, **values)
            result["created"].append(name)
        elif any(getattr(schedule, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(schedule, key, value)
            schedule.next_run = schedule.calculate_next_run() if spec.cron else timezone.now()
            schedule.save()
            result["updated"].append(name)
    stale = Schedule.objects.filter(name__startswith=NAME_PREFIX).exclude(name__in=wanted)
    result["deleted"] = sorted(stale.values_list("name", flat=True))
    stale.delete()
    return result
