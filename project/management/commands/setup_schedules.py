from django.core.management.base import BaseCommand

from project.schedules import sync_schedules


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules declared in code (safe to run again)."

    def handle(self, *args, **options):
        result = sync_schedules()
        for action in ("created", "updated", "deleted"):
            for name in result[action]:
                self.stdout.write(f"{action}: {name}")
        if not any(result.values()):
            self.stdout.write("schedules up to date")
