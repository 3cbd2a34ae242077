"""Refreshes the built-in import profiles from fixtures/statements/import_profiles.json: adds Cargo's
physical sales statement (read from its Excel workbook)."""

from importlib import import_module

from django.db import migrations

# The loader of migration 0003: update_or_create of every fixture record by slug.
builtin = import_module("statements.migrations.0003_builtin_import_profiles")


class Migration(migrations.Migration):
    dependencies = [("statements", "0030_royalty_breakdown_cascade")]

    operations = [migrations.RunPython(builtin.load_builtin_profiles, migrations.RunPython.noop)]
