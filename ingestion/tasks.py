"""django-q2 entry points of the ingestion app: thin wrappers over services."""

SCHEDULES: list = []
