"""Prepare the demo: users, demo data and today's sample invoice file on the demo FTP server."""

import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

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

        sample = Path(settings.BASE_DIR, "fixtures", "demo", "sample_invoices.txt")
        if sample.exists():
            inbound = settings.VAR_DIR / "ftp" / "inbound"
            inbound.mkdir(parents=True, exist_ok=True)
            records = sample.read_bytes().count(b"\n") + 1
            stamp = timezone.localtime().strftime("%Y%m%d%H%M%S%f")[:17]
            target = inbound / f"Letture{stamp}_{records - 1}.txt"
            if not any(inbound.glob(f"Letture{stamp[:8]}*")):
                shutil.copyfile(sample, target)
                self.stdout.write(f"demo FTP file: {target.name}")
        (settings.VAR_DIR / "ftp" / "outbound").mkdir(parents=True, exist_ok=True)
        # The demo's stand-in for the remote log server (SESSIONS_LOG_FS_URL = osfs://var/remote-log).
        (settings.VAR_DIR / "remote-log").mkdir(parents=True, exist_ok=True)
