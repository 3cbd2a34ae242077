"""django-q2 entry points of the platform."""

from project import mail
from project.schedules import ScheduleSpec

SCHEDULES = [ScheduleSpec(name="deliver-outbox", func="project.tasks.deliver_outbox", minutes=5)]


def deliver_email(email_id: int) -> bool:
    return mail.deliver_email(email_id)


def deliver_outbox() -> int:
    return mail.deliver_outbox()
