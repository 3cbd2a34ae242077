from django.db import migrations, models

# The content fingerprint of lines paid before it was stored, as statements.royalties.calculation
# computes it at the time of this migration (CONTENT_SQL).
BACKFILL_SQL = """
UPDATE statements_royaltyallocation a
SET content = md5(concat_ws(chr(31), lower(btrim(l.dsp)), l.period, upper(l.isrc), l.upc,
    lower(btrim(l.artist)), upper(l.territory), l.units, trim_scale(l.revenue), upper(l.currency),
    l.sale_type, lower(btrim(l.use_type)), lower(btrim(l.commercial_model))))::uuid
FROM statements_salesline l
WHERE l.sales_file_id = a.sales_file_id AND l.line_number = a.line_number
"""


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0019_catalogue_label_income"),
    ]

    operations = [
        migrations.AddField(
            model_name="royaltyallocation",
            name="content",
            field=models.UUIDField(blank=True, null=True, verbose_name="content fingerprint"),
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="royaltyallocation",
            index=models.Index(fields=["content"], name="allocation_content"),
        ),
    ]
