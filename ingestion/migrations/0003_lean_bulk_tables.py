"""Lean bulk tables for the COPY loader: (line, category) primary key on the category links, no
surrogate id, no invoice_number index and no FK constraints checked row by row at commit."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0002_known_invoices_table")]

    operations = [
        migrations.RemoveField(model_name="invoiceline", name="categories"),
        migrations.DeleteModel(name="InvoiceLineCategory"),
        migrations.CreateModel(
            name="InvoiceLineCategory",
            fields=[
                ("pk", models.CompositePrimaryKey("line", "category", blank=True, editable=False, primary_key=True, serialize=False)),
                ("line", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, to="ingestion.invoiceline")),
                ("category", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, to="ingestion.category")),
            ],
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="categories",
            field=models.ManyToManyField(blank=True, related_name="lines", through="ingestion.InvoiceLineCategory", to="ingestion.category"),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="file",
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="ingestion.invoicefile"),
        ),
        migrations.AlterField(model_name="invoiceline", name="invoice_number", field=models.CharField(max_length=9)),
    ]
