"""Prepare the demo: users, demo data and today's sample invoice file on the demo FTP server."""

import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from ingestion.parsing import parse_file_name
from ingestion.selectors import file_for_day_exists
from project.roles import BACK_OFFICE, OPERATORS

DEMO_USERS = [
    # username, password, staff, groups
    ("admin", "admin-demo-pass", True, [BACK_OFFICE]),
    ("operator", "operator-demo-pass", False, [OPERATORS]),
]


class Command(BaseCommand):
    help = "Create the demo users, load fixtures/demo and drop today's sample file on the demo FTP."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, password, staff, groups in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = staff
            user.set_password(password)
            user.save()
            user.groups.set(Group.objects.filter(name__in=groups))
            self.stdout.write(f"demo user: {username} / {password}")

        fixtures = sorted(Path(settings.BASE_DIR, "fixtures", "demo").glob("*.json"))
        if fixtures:
            call_command("loaddata", *fixtures, verbosity=0)
            self.stdout.write(f"loaded {len(fixtures)} demo fixture file(s)")

        # The shipped sample is a valid `Letture…_N.txt` file (it can be uploaded by hand too); the
        # demo FTP gets a copy stamped with today's date and time, unless today already has a file.
        sample = min(Path(settings.BASE_DIR, "fixtures", "demo").glob("Letture*_*.txt"))
        inbound = settings.VAR_DIR / "ftp" / "inbound"
        inbound.mkdir(parents=True, exist_ok=True)
        now = timezone.localtime()
        stamp = now.strftime("%Y%m%d%H%M%S%f")[:17]
        if not any(inbound.glob(f"Letture{stamp[:8]}*")) and not file_for_day_exists(now.date()):
            target = inbound / f"Letture{stamp}_{parse_file_name(sample.name).declared_records - 1}.txt"
            shutil.copyfile(sample, target)
            self.stdout.write(f"demo FTP file: {target.name}")
        (settings.VAR_DIR / "ftp" / "outbound").mkdir(parents=True, exist_ok=True)
        # The demo's stand-in for the remote log server (SESSIONS_LOG_FS_URL = osfs://var/remote-log).
        (settings.VAR_DIR / "remote-log").mkdir(parents=True, exist_ok=True)
