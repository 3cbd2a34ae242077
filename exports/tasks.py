"""django-q2 entry points of the exports app: thin wrappers over services."""

SCHEDULES: list = []
