"""Days whose session was closed before ingestion recorded closed days: their late files are refused too."""

from django.db import migrations


def record_closed_days(apps, schema_editor):
    Session = apps.get_model("sessions_app", "Session")
    ClosedDay = apps.get_model("ingestion", "ClosedDay")
    days = Session.objects.filter(closed_at__isnull=False).values_list("day", flat=True)
    ClosedDay.objects.bulk_create([ClosedDay(day=day) for day in days], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0001_initial"),
        ("ingestion", "0005_duplicates_late_closed_days_polls"),
    ]

    operations = [migrations.RunPython(record_closed_days, migrations.RunPython.noop)]
