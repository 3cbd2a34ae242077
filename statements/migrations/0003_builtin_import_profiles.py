"""Creates (or refreshes) the built-in import profiles from fixtures/statements/import_profiles.json."""

import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "statements" / "import_profiles.json"


def load_builtin_profiles(apps, schema_editor):
    ImportProfile = apps.get_model("statements", "ImportProfile")
    # The fixture is today's; a migration's model may not have the fields added after it yet.
    known = {field.name for field in ImportProfile._meta.get_fields()}
    for record in json.loads(FIXTURE.read_text(encoding="utf-8")):
        fields = {name: value for name, value in record["fields"].items() if name in known}
        ImportProfile.objects.update_or_create(slug=fields.pop("slug"), defaults={**fields, "builtin": True})


def remove_builtin_profiles(apps, schema_editor):
    apps.get_model("statements", "ImportProfile").objects.filter(builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("statements", "0002_importprofile")]

    operations = [migrations.RunPython(load_builtin_profiles, remove_builtin_profiles)]
