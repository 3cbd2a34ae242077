"""The staff pages for statement runs."""

import pytest
from django.test import Client

from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def test_pages_need_login_and_back_office(make_user):
    client = Client()
    assert client.get("/statements/").status_code == 302
    client.force_login(make_user("operator", groups=["operators"]))
    assert client.get("/statements/").status_code == 403


def test_run_page_shows_files_statuses_progress_rates_and_downloads(flow, make_user):
    run_id = flow.create_run(name="Q3 royalties")
    flow.processed_file(fixture_bytes("with_errors.csv"), run_id, name="tidal.csv")
    flow.rates(run_id, [{"currency": c, "period": "2026-09", "rate": "0.085"} for c in ("NOK", "SEK")])
    client = Client()
    client.force_login(make_user("boss", staff=True))
    listing = client.get("/statements/").content.decode()
    assert "Q3 royalties" in listing
    page = client.get(f"/statements/{run_id}/").content.decode()
    assert "tidal.csv" in page and "PROCESSED" in page and "6 rejected" in page
    assert "<progress" in page and "NOK" in page and "0.0850000000" in page
    assert f"/api/statement_run/{run_id}/report/?format=xlsx" in page
    report = client.get(f"/api/statement_run/{run_id}/report/?format=csv")
    assert report.status_code == 200
