"""django-q2 entry points of the statements app: thin wrappers over services."""

SCHEDULES: list = []
