"""The rows of a royalty statement set are deleted with it by the database (ON DELETE CASCADE):
Django's cascade would load millions of group rows first. A migration of its own: Django creates
the foreign keys of 0023 only at the end of that migration."""

from django.db import migrations

# Rows of a statement set go with it, deleted by the database rather than by Django's cascade.
CASCADE_SQL = """
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
           WHERE contype = 'f' AND confrelid = 'statements_royaltystatementset'::regclass LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (statement_set_id) REFERENCES '
                   'statements_royaltystatementset (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED',
                   r.tbl, r.conname);
  END LOOP;
END $$;
"""

class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0023_royalty_statement_rows"),
    ]

    operations = [migrations.RunSQL(CASCADE_SQL, migrations.RunSQL.noop)]
