import pytest
from django.core.management import call_command
from django_q.models import Schedule

from project.schedules import NAME_PREFIX, declared_schedules

pytestmark = pytest.mark.django_db


def test_setup_schedules_is_idempotent():
    call_command("setup_schedules")
    first = list(Schedule.objects.values_list("name", "func", "cron", "minutes").order_by("name"))
    call_command("setup_schedules")
    again = list(Schedule.objects.values_list("name", "func", "cron", "minutes").order_by("name"))
    assert first == again
    assert len(first) == len(declared_schedules())
    assert all(name.startswith(NAME_PREFIX) for name, *_ in first)


def test_setup_schedules_removes_stale_own_schedules_only():
    Schedule.objects.create(name=NAME_PREFIX + "gone", func="project.tasks.deliver_outbox")
    Schedule.objects.create(name="someone-else", func="project.tasks.deliver_outbox")
    call_command("setup_schedules")
    names = set(Schedule.objects.values_list("name", flat=True))
    assert NAME_PREFIX + "gone" not in names
    assert "someone-else" in names
