"""Create a plain `known_invoices` table when the relation does not exist (demo, tests).

In production the relation is the customer's read-only view; it is never altered or dropped here.
"""

from django.conf import settings
from django.db import migrations


def create_relation_if_missing(apps, schema_editor):
    relation = settings.KNOWN_INVOICES_RELATION
    existing = schema_editor.connection.introspection.table_names(include_views=True)
    if relation in existing:
        return
    model = apps.get_model("ingestion", "KnownInvoice")
    schema_editor.create_model(model)


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0001_initial")]

    operations = [migrations.RunPython(create_relation_if_missing, migrations.RunPython.noop)]
