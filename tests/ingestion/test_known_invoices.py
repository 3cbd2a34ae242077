"""The known-invoices relation: a plain table in tests and the demo, never an existing view touched."""

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

migration = import_module("ingestion.migrations.0002_known_invoices_table")


def test_migration_created_the_table_when_no_relation_existed():
    assert "known_invoices" in connection.introspection.table_names()


def test_migration_leaves_an_existing_view_alone(settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIEW erp_invoices AS SELECT '600000001'::varchar(9) AS invoice_number,"
            " DATE '2099-12-31' AS invoice_date"
        )
    settings.KNOWN_INVOICES_RELATION = "erp_invoices"
    with connection.schema_editor() as editor:
        migration.create_relation_if_missing(apps, editor)
    assert "erp_invoices" in connection.introspection.table_names(include_views=True)
    assert "erp_invoices" not in connection.introspection.table_names(include_views=False)
