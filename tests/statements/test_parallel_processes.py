"""Several sales files processed at once, by separate processes as django-q2 workers would: every
one ends PROCESSED with all its lines (imports of different files never block each other out)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from statements import services
from statements.models import SalesFile, SalesFileStatus, SalesLine
from tests.servers.postgres import database_url_of

pytestmark = pytest.mark.django_db(transaction=True)  # the workers read what the test committed
LINES = 5_000


def test_files_processed_at_once_by_separate_processes_all_finish():
    sales = "period,dsp,artist,territory,units,revenue,currency\n" + "".join(
        f"2026-09,Spotify,Artist {n % 50},IT,{n % 9 + 1},0.{n:04d},EUR\n" for n in range(LINES)
    )
    ids = []
    for n in range(3):
        sales_file = services.create_sales_file(name=f"sales-{n}.csv", user=None)
        services.store_content(
            sales_file=sales_file,
            content=ContentFile(sales.encode(), name="sales.csv"),
            allow_duplicate=n > 0,
            reason="the same file processed at once",
        )
        ids.append(str(sales_file.pk))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "AWS_"))}
    env.update(
        DATABASE_URL=database_url_of(),
        VAR_DIR=str(settings.VAR_DIR),  # the same local storage: media/ under it
    )

    workers = [
        subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "process_salesfile", file_id],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for file_id in ids
    ]
    outcomes = [(worker.wait(timeout=300), *worker.communicate()) for worker in workers]
    assert all(code == 0 for code, _, _ in outcomes), outcomes
    files = SalesFile.objects.filter(pk__in=ids).order_by("pk")
    assert [(f.status, f.lines_valid) for f in files] == [(SalesFileStatus.PROCESSED, LINES)] * 3
    assert SalesLine.objects.filter(sales_file__in=files).count() == 3 * LINES
