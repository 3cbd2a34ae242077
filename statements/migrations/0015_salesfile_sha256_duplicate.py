import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('statements', '0014_salesfile_failure_code'),
    ]

    operations = [
        migrations.AddField(
            model_name='salesfile',
            name='duplicate_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='statements.salesfile', verbose_name='duplicate of'),
        ),
        migrations.AddField(
            model_name='salesfile',
            name='duplicate_reason',
            field=models.TextField(blank=True, verbose_name='duplicate reason'),
        ),
        migrations.AddField(
            model_name='salesfile',
            name='sha256',
            field=models.CharField(blank=True, db_index=True, max_length=64, verbose_name='SHA-256'),
        ),
    ]
