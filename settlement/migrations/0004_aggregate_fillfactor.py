"""Leave free space in the aggregate pages so that the batch upserts become HOT updates (no index
writes)."""

from django.db import migrations

TABLES = ("settlement_aggregate", "settlement_aggregate_key")


def set_fillfactor(apps, schema_editor, value: int = 70) -> None:
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor) -> None:
    set_fillfactor(apps, schema_editor, value=100)


class Migration(migrations.Migration):
    dependencies = [
        ("settlement", "0003_upsert_indexes"),
    ]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
