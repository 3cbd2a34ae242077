"""Statements as presented are deleted with their set by the database (ON DELETE CASCADE), as the
set's other rows (0024), and kept as they come: compressed already, PostgreSQL would only try
again (STORAGE EXTERNAL). A migration of its own: Django creates the foreign key of 0034 only at
the end of that migration."""

from django.db import migrations

CASCADE_SQL = """
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT conname FROM pg_constraint
           WHERE contype = 'f' AND conrelid = 'statements_royaltypresentedstatements'::regclass
             AND confrelid = 'statements_royaltystatementset'::regclass LOOP
    EXECUTE format('ALTER TABLE statements_royaltypresentedstatements DROP CONSTRAINT %I', r.conname);
    EXECUTE format('ALTER TABLE statements_royaltypresentedstatements ADD CONSTRAINT %I FOREIGN KEY '
                   '(statement_set_id) REFERENCES statements_royaltystatementset (id) '
                   'ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED', r.conname);
  END LOOP;
END $$;
ALTER TABLE statements_royaltypresentedstatements ALTER COLUMN figures SET STORAGE EXTERNAL;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0034_royalty_presented_statements"),
    ]

    operations = [migrations.RunSQL(CASCADE_SQL, migrations.RunSQL.noop)]
