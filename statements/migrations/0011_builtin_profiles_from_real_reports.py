"""Refreshes the built-in import profiles from fixtures/statements/import_profiles.json: profiles
checked against real reports (CD Baby, FUGA/Cargo, Ingrooves SDS, Secretly, The Orchard full
report, Traxsource, Beatport)."""

from importlib import import_module

from django.db import migrations

# The loader of migration 0003: update_or_create of every fixture record by slug.
builtin = import_module("statements.migrations.0003_builtin_import_profiles")


class Migration(migrations.Migration):
    dependencies = [("statements", "0010_exact_revenue")]

    operations = [migrations.RunPython(builtin.load_builtin_profiles, migrations.RunPython.noop)]
