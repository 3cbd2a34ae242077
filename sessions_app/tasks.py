"""django-q2 entry points of the sessions_app app: thin wrappers over services."""

SCHEDULES: list = []
