"""Breakdown rows go with their statement set, deleted by the database (as 0024 made it for the
other rows: Django's cascade would load them first). A migration of its own: Django creates the
foreign keys of 0029 only at the end of that migration."""

import importlib

from django.db import migrations

CASCADE_SQL = importlib.import_module("statements.migrations.0024_royalty_statement_cascade").CASCADE_SQL


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0029_royalty_statement_breakdown"),
    ]

    operations = [migrations.RunSQL(CASCADE_SQL, migrations.RunSQL.noop)]
