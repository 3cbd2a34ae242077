"""django-q2 entry points of the settlement app: thin wrappers over services."""

SCHEDULES: list = []
