"""django-q2 entry points of the settlement app: thin wrappers over services."""

from project import idempotency
from project.schedules import ScheduleSpec
from settlement import services

SCHEDULES = [
    ScheduleSpec(
        name="settlement-expire-idempotency-keys",
        func="settlement.tasks.expire_idempotency_keys",
        minutes=60,
    ),
    # Updates also ask for a fold every SETTLEMENT_FOLD_EVERY batches; this catches quiet structures.
    ScheduleSpec(name="settlement-fold", func="settlement.tasks.fold_all", minutes=10),
]


def expire_idempotency_keys() -> int:
    return idempotency.expire_idempotency_keys()


def fold_structure(structure_id: int) -> int:
    return services.fold_structure(structure_id=structure_id)


def fold_all() -> int:
    return services.fold_all()
