"""The audit trail: one append-only table (django-auditlog's `LogEntry`, listed in the admin under
*Audit log*) holding every change to the low-volume models (`AUDITLOG_INCLUDE_TRACKING_MODELS` in
settings; never the bulk tables) and, through `record_action()`, the actions that are not one field
change (a settle, a re-process, a force-close, an export deleted).

Who: the request's user (auditlog's middleware), the owner of the API token a request used (set by
`project.tokens`), with `via` saying how: `web`, `token <prefix>`, `command <name>` or `system`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from auditlog.context import auditlog_value, set_extra_data
from auditlog.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver


def _context() -> dict[str, Any] | None:
    try:
        return auditlog_value.get()
    except LookupError:
        return None


def set_actor(user: AbstractBaseUser, *, via: str) -> None:
    """Attribute what the current request or command changes from now on to `user`, `via` e.g.
    `token bo_abc123`. Without a surrounding audit context (a test calling a service) it does nothing."""
    context = _context()
    if context is not None:
        context["actor"] = user
        context["via"] = via


@contextmanager
def command_context(name: str) -> Iterator[None]:
    """Everything a management command changes is recorded as `via: command <name>`."""
    with set_extra_data(context_data={"actor": None, "via": f"command {name}"}):
        yield


def record_action(
    event: str,
    *,
    target: models.Model,
    changes: dict[str, Any] | None = None,
    user: AbstractBaseUser | None = None,
) -> LogEntry:
    """Record an action on `target` that is not (only) a field change: `event` is a dotted name
    (`settlement.settle`, `statements.file_reprocessed`), `changes` a short `{field: [old, new]}`
    or `{what: value}` summary. `user` defaults to the request's or token's user."""
    summary = {
        key: value if isinstance(value, list) else [None, value] for key, value in (changes or {}).items()
    }
    return LogEntry.objects.log_create(
        target,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes=summary,
        actor=user,
        additional_data={"event": event},
    )


@receiver(pre_save, sender=LogEntry)
def _note_how(sender: type, instance: LogEntry, **kwargs: Any) -> None:
    """Every entry says how its actor reached us; a request's entries without a token are `web`."""
    context = _context() or {}
    via = context.get("via") or ("web" if context.get("remote_addr") else "system")
    instance.additional_data = {**(instance.additional_data or {}), "via": via}


@receiver(pre_save, sender=LogEntry)
def _only_own_fields(sender: type, instance: LogEntry, **kwargs: Any) -> None:
    """auditlog records a model's reverse one-to-many relations as fields, valued with their
    manager's name ("exports.Mutation.None"): they are other objects' rows, not this one's fields."""
    model = instance.content_type.model_class() if instance.content_type_id else None
    # A record_action() event names its own summary keys ("rates": [0, 1]), which may share a name
    # with a reverse relation: it is left as written.
    if model is None or not isinstance(instance.changes, dict) or "event" in (instance.additional_data or {}):
        return
    reverse = {field.name for field in model._meta.get_fields() if field.auto_created and not field.concrete}
    if reverse & instance.changes.keys():
        instance.changes = {name: change for name, change in instance.changes.items() if name not in reverse}
