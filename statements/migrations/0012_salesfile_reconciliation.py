from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('statements', '0011_builtin_profiles_from_real_reports'),
    ]

    operations = [
        migrations.AddField(
            model_name='salesfile',
            name='reconciliation',
            field=models.JSONField(blank=True, default=dict, verbose_name='reconciliation'),
        ),
    ]
