import statements.models
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('statements', '0009_royalty_archive'),
    ]

    operations = [
        migrations.AlterField(
            model_name='salesfilesnapshot',
            name='revenue',
            field=statements.models.ExactDecimalField(verbose_name='revenue'),
        ),
        migrations.AlterField(
            model_name='salesline',
            name='revenue',
            field=statements.models.ExactDecimalField(verbose_name='revenue'),
        ),
    ]
