"""Create or restore the built-in import profiles from fixtures/statements/import_profiles.json."""

from django.core.management.base import BaseCommand

from statements.models import ImportProfile


class Command(BaseCommand):
    help = (
        "Create the built-in CSV/TSV import profiles, or restore them as shipped (edits made to them "
        "in the admin are replaced; profiles added in the admin are kept)."
    )

    def handle(self, *args, **options):
        count = ImportProfile.objects.load_builtin()
        self.stdout.write(f"{count} built-in import profiles loaded")
