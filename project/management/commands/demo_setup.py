"""Prepare the demo: users, demo data (with payees and contracts for the demo sales file), a few past
days' sessions and today's sample invoice file on the demo FTP server."""

import shutil
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test import override_settings
from django.utils import timezone

from ingestion.parsing import parse_file_name
from ingestion.selectors import file_for_day_exists
from ingestion.services import ingest_bytes
from project.management.commands.demo_ftp import demo_server
from project.roles import BACK_OFFICE, OPERATORS
from sessions_app import services as session_services
from sessions_app.run import run_session

PAST_DAYS = 3  # so the sessions page's "Past sessions" has something to show

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
        # The demo's payees and contracts (royalty_contracts.json) cover the artists of this file.
        for sales in sorted(Path(settings.BASE_DIR, "fixtures", "demo").glob("royalty_sales_*.csv")):
            self.stdout.write(f"demo sales file for a statement run: {sales.relative_to(settings.BASE_DIR)}")

        # The shipped sample is a valid `Letture…_N.txt` file (it can be uploaded by hand too); the
        # demo FTP gets a copy stamped with today's date and time, unless today already has a file.
        sample = min(Path(settings.BASE_DIR, "fixtures", "demo").glob("Letture*_*.txt"))
        (settings.VAR_DIR / "ftp" / "outbound").mkdir(parents=True, exist_ok=True)
        # The demo's stand-in for the remote log server (SESSIONS_LOG_FS_URL = osfs://var/remote-log),
        # there before the past sessions read it.
        (settings.VAR_DIR / "remote-log").mkdir(parents=True, exist_ok=True)
        self._past_sessions(sample)
        inbound = settings.VAR_DIR / "ftp" / "inbound"
        inbound.mkdir(parents=True, exist_ok=True)
        now = timezone.localtime()
        stamp = now.strftime("%Y%m%d%H%M%S%f")[:17]
        if not any(inbound.glob(f"Letture{stamp[:8]}*")) and not file_for_day_exists(now.date()):
            target = inbound / f"Letture{stamp}_{parse_file_name(sample.name).declared_records - 1}.txt"
            shutil.copyfile(sample, target)
            self.stdout.write(f"demo FTP file: {target.name}")

    def _past_sessions(self, sample: Path) -> None:
        """A file for each of the PAST_DAYS days before today that has none (the sample less a record
        per day back, so no two are duplicates), each day run through the real session (generation,
        upload to a private demo FTP server, its receiver's log) and closed."""
        now = timezone.localtime()
        days = [(n, now.date() - timedelta(days=n)) for n in range(PAST_DAYS, 0, -1)]
        days = [(n, day) for n, day in days if not file_for_day_exists(day)]
        if not days:
            return
        server = demo_server(0)  # any free port: `make run` serves the demo FTP on its own
        port = server.socket.getsockname()[1]
        serving = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
        serving.start()
        records = sample.read_bytes().removesuffix(b"\n").split(b"\n")
        try:
            with override_settings(SESSIONS_FTP_URL=f"ftp://demo:demo@127.0.0.1:{port}/outbound"):
                for n, day in days:
                    kept = records[:-n]
                    name = f"Letture{day:%Y%m%d}{now:%H%M%S}000_{len(kept) - 1}.txt"  # the name says N, N + 1 records
                    ingest_bytes(name=name, content=b"\n".join(kept), source="manual")
                    session = session_services.start_session(day=day, enqueue=False)
                    session = run_session(session_id=session.pk, report=lambda message: None)
                    session_services.close_session(day=day, force=not session.is_complete)
                    self.stdout.write(f"demo past session: {day} ({session.get_status_display()})")
        finally:
            server.close_all()
            serving.join(timeout=10)
