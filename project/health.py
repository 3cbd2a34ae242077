"""The checks behind /healthz: each says whether one dependency works, never any business data.

Cluster liveness is read from the schedules: django-q2's scheduler moves a schedule's `next_run`
forward each time it fires it, so a `next_run` left far in the past means no cluster is running
(the ORM broker keeps no heartbeat of its own that other processes can read).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone

from ingestion import selectors as ingestion_selectors
from project import storage
from project.errors import Unavailable


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_json(self) -> dict:
        return {"ok": self.ok, "detail": self.detail}


def database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Check(True, "reachable")


def cluster() -> Check:
    from django_q.models import Schedule

    oldest = Schedule.objects.filter(next_run__isnull=False).aggregate(oldest=Min("next_run"))["oldest"]
    if oldest is None:
        return Check(False, "no schedules: run setup_schedules")
    late = (timezone.now() - oldest).total_seconds()
    if late > settings.HEALTHZ_CLUSTER_MAX_LATE:
        return Check(False, f"a schedule is {late:.0f} s overdue: no task cluster is running")
    return Check(True, "schedules are being run")


def queue() -> Check:
    from django_q.brokers import get_broker
    from django_q.models import OrmQ

    if get_broker().info().split()[0] != "ORM":
        return Check(True, "not measured for this broker")
    # A waiting task's lock is its enqueue time (or an expired lease); taken tasks' locks lie ahead.
    oldest = OrmQ.objects.filter(lock__lte=timezone.now()).aggregate(oldest=Min("lock"))["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0
    if age > settings.HEALTHZ_QUEUE_MAX_AGE:
        return Check(False, f"the oldest waiting task was queued {age:.0f} s ago")
    return Check(True, f"oldest waiting task {age:.0f} s")


def file_storage() -> Check:
    # A write and a delete: a read-only or full storage breaks imports as surely as an unreachable one.
    key = f"healthz/{uuid.uuid4().hex}"
    storage.save(key, b"ok")
    storage.delete(key)
    return Check(True, "writable")


def inbound_ftp() -> Check:
    last = ingestion_selectors.last_poll()
    if last is None:
        return Check(True, "not polled yet")
    succeeded = last if last.succeeded else ingestion_selectors.last_poll(succeeded=True)
    since = (
        f"last successful poll {_age(succeeded.finished_at)} ago"
        if succeeded
        else "never polled successfully"
    )
    return Check(last.succeeded, since if last.succeeded else f"the last poll failed; {since}")


def _age(moment) -> str:
    return str(timedelta(seconds=round((timezone.now() - moment).total_seconds())))


CHECKS: dict[str, Callable[[], Check]] = {
    "database": database,
    "cluster": cluster,
    "queue": queue,
    "storage": file_storage,
    "ftp": inbound_ftp,
}


def run_checks() -> dict[str, Check]:
    """Every check; one that raises (database down, storage unreachable) is a failed check."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except (DatabaseError, Unavailable) as exc:
            results[name] = Check(False, f"{type(exc).__name__}: {exc}"[:300])
    return results
