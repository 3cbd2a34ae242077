"""The staff pages for statement runs: each action of the run page through the Django test client."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from statements.models import ImportProfile, SalesFile, StatementRun
from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user) -> Client:
    client = Client()
    client.force_login(make_user("bea", groups=["back-office"]))
    return client


def test_pages_need_login_and_back_office(make_user):
    client = Client()
    assert client.get("/statements/").status_code == 302
    client.force_login(make_user("operator", groups=["operators"]))
    assert client.get("/statements/").status_code == 403
    assert client.post("/statements/", {"name": "x", "currency": "EUR"}).status_code == 403


def test_run_page_shows_files_statuses_progress_rates_and_downloads(flow, staff):
    run_id = flow.create_run(name="Q3 royalties")
    flow.processed_file(fixture_bytes("with_errors.csv"), run_id, name="tidal.csv")
    flow.rates(run_id, [{"currency": c, "period": "2026-09", "rate": "0.085"} for c in ("NOK", "SEK")])
    listing = staff.get("/statements/").content.decode()
    assert "Q3 royalties" in listing
    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert "tidal.csv" in page and "PROCESSED" in page and "4 rejected" in page
    # The reconciliation: the file's NOK = imported + the two rejected lines' NOK 0.85.
    assert (
        'data-reconciliation="NOK"' in page and "NOK in the file 5.10 = 3.40 imported + 1.70 rejected" in page
    )
    assert "<progress" in page and "NOK" in page and "0.0850000000" in page
    assert 'id="rejected-' in page  # the first rejected lines, with their reasons
    assert f"/statements/{run_id}/report.xlsx" in page and 'id="chart-dsp"' in page
    assert '<datalist id="known-dsps"><option value="Tidal">' in page  # DSP names for the exceptions
    report = staff.get(f"/statements/{run_id}/report.csv")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    assert StatementRun.objects.get(pk=run_id).report_generated_at is not None


def test_create_run_with_filters(staff):
    response = staff.post(
        "/statements/",
        {
            "name": "Aurora Q3",
            "currency": "chf",
            "artists": "Aurora Lane\nThe Quiet Hours",
            "dsps": "Spotify, Deezer",
            "periods": "2026-07, 2026-08",
            "period_from": "",
            "period_to": "",
        },
    )
    run = StatementRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/statements/{run.pk}/"
    assert (run.currency, run.artists, run.dsps) == (
        "CHF",
        ["Aurora Lane", "The Quiet Hours"],
        ["Spotify", "Deezer"],
    )
    assert run.periods == ["2026-07", "2026-08"]


def test_create_run_refuses_bad_input_with_the_reason(staff):
    response = staff.post("/statements/", {"name": "x", "currency": "E1R", "periods": "2026-13"})
    assert response.status_code == 200 and not StatementRun.objects.exists()
    page = response.content.decode()
    assert "E1R is not an ISO 4217 currency code." in page and "2026-13 is not a month as YYYY-MM." in page


def test_upload_several_files_without_javascript(flow, staff):
    run_id = flow.create_run(name="Q3")
    files = [
        SimpleUploadedFile("spotify.csv", fixture_bytes("spotify_2026-09.csv")),
        SimpleUploadedFile("deezer.csv", fixture_bytes("deezer_2026-09_semicolon.csv")),
    ]
    response = staff.post(f"/statements/{run_id}/upload/", {"upload-files": files, "upload-profile": ""})
    assert response.status_code == 302
    run = StatementRun.objects.get(pk=run_id)
    assert sorted((f.name, f.status) for f in run.sales_files.all()) == [
        ("deezer.csv", "PROCESSED"),
        ("spotify.csv", "PROCESSED"),
    ]
    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert "spotify.csv uploaded and queued for processing." in page
    assert "Missing exchange rates:" in page and "GBP 2026-09" in page
    assert '<button type="button" disabled>Download CSV</button>' in page


def test_upload_without_a_file_says_so(flow, staff):
    run_id = flow.create_run()
    response = staff.post(f"/statements/{run_id}/upload/", {"upload-profile": ""})
    assert response.status_code == 400 and "Choose at least one file." in response.content.decode()


def test_rates_table_replaces_the_set_and_shows_row_errors(flow, staff):
    run_id = flow.create_run()
    flow.rates(run_id, [{"currency": "USD", "period": "2026-09", "rate": "0.9"}])
    table = {
        "rates-TOTAL_FORMS": "3",
        "rates-INITIAL_FORMS": "1",
        "rates-0-currency": "USD",
        "rates-0-period": "2026-09",
        "rates-0-rate": "0.9",
        "rates-0-DELETE": "on",
        "rates-1-currency": "gbp",
        "rates-1-period": "2026-09",
        "rates-1-rate": "1,15",
        "rates-2-currency": "",
        "rates-2-period": "",
        "rates-2-rate": "",
    }
    assert staff.post(f"/statements/{run_id}/rates/", table).status_code == 302
    run = StatementRun.objects.get(pk=run_id)
    assert [(r.currency, r.period, str(r.rate)) for r in run.rates.all()] == [
        ("GBP", "2026-09", "1.1500000000")
    ]

    bad = {**table, "rates-1-rate": "abc", "rates-2-currency": "GBP", "rates-2-period": "2026-09"}
    response = staff.post(f"/statements/{run_id}/rates/", bad)
    assert response.status_code == 400
    assert "rate &#x27;abc&#x27; is not a number" in response.content.decode()
    assert run.rates.count() == 1


def test_exceptions_table_names_a_dsp_or_a_sales_file(flow, staff):
    run_id = flow.create_run()
    file_id = flow.create_file("spotify.csv")
    flow.add_file(run_id, file_id)
    table = {
        "exceptions-TOTAL_FORMS": "2",
        "exceptions-INITIAL_FORMS": "0",
        "exceptions-0-currency": "USD",
        "exceptions-0-dsp": "Spotify",
        "exceptions-0-rate": "0.8",
        "exceptions-1-currency": "GBP",
        "exceptions-1-salesfile": str(file_id),
        "exceptions-1-period": "2026-09",
        "exceptions-1-rate": "1.2",
    }
    assert staff.post(f"/statements/{run_id}/exceptions/", table).status_code == 302
    run = StatementRun.objects.get(pk=run_id)
    assert sorted((e.currency, e.dsp, e.sales_file_id, e.period) for e in run.rate_exceptions.all()) == [
        ("GBP", "", file_id, "2026-09"),
        ("USD", "Spotify", None, ""),
    ]
    response = staff.post(f"/statements/{run_id}/exceptions/", {**table, "exceptions-0-dsp": ""})
    assert response.status_code == 400 and "an exception needs" in response.content.decode()


def test_rates_upload_replaces_or_merges(flow, staff):
    run_id = flow.create_run()
    flow.rates(run_id, [{"currency": "USD", "period": "2026-09", "rate": "0.9"}])
    csv = b"currency,period,rate\nGBP,2026-09,1.15\n"
    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert "An upload replaces the run's rates" in page

    def upload(mode: str, content: bytes = csv):
        return staff.post(
            f"/statements/{run_id}/rates/upload/",
            {"rates-upload-file": SimpleUploadedFile("rates.csv", content), "rates-upload-mode": mode},
        )

    run = StatementRun.objects.get(pk=run_id)
    assert upload("merge").status_code == 302
    assert sorted(r.currency for r in run.rates.all()) == ["GBP", "USD"]
    assert upload("replace").status_code == 302
    assert [r.currency for r in run.rates.all()] == ["GBP"]
    response = upload("replace", b"currency,period,rate\nGBP,2026-9,x\n")
    assert response.status_code == 400 and "line 2: " in response.content.decode()
    assert [r.currency for r in run.rates.all()] == ["GBP"]


def test_process_again_a_file_no_profile_read(flow, staff):
    run_id = flow.create_run()
    ImportProfile.objects.update(active=False)  # no layout known: the file waits for a mapping
    file_id = flow.processed_file(fixture_bytes("applemusic_2026-10.tsv"), run_id, name="apple.tsv")
    assert flow.file(file_id)["status"] == "NEEDS_MAPPING"
    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert "Process again" in page and f'id="rejected-{file_id}"' in page

    ImportProfile.objects.update(active=True)
    response = staff.post(f"/statements/{run_id}/files/{file_id}/process/")
    assert response.status_code == 302
    assert flow.file(file_id)["status"] == "PROCESSED"


def test_download_before_the_report_is_ready_goes_back_to_the_page(flow, staff):
    run_id = flow.create_run()
    response = staff.get(f"/statements/{run_id}/report.xlsx", follow=True)
    assert response.redirect_chain == [(f"/statements/{run_id}/", 302)]
    assert "Report not available: the run has no sales files." in response.content.decode()
    assert StatementRun.objects.get(pk=run_id).report_generated_at is None


def test_frozen_rates_are_shown_disabled_and_refused(flow, staff):
    run_id = flow.create_run(currency="CHF")
    flow.processed_file(fixture_bytes("deezer_2026-09_semicolon.csv"), run_id, name="deezer.csv")
    flow.rates(run_id, [{"currency": "EUR", "period": "2026-09", "rate": "0.95"}])
    assert staff.get(f"/statements/{run_id}/report.csv").status_code == 200
    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert "The rates are frozen" in page and "<fieldset disabled>" in page
    table = {
        "rates-TOTAL_FORMS": "1",
        "rates-INITIAL_FORMS": "0",
        "rates-0-currency": "EUR",
        "rates-0-period": "2026-09",
        "rates-0-rate": "1",
    }
    response = staff.post(f"/statements/{run_id}/rates/", table, follow=True)
    assert "are frozen" in response.content.decode()


def test_a_finalised_run_offers_no_upload_or_process_again_and_a_posted_upload_is_refused(flow, staff):
    from statements.royalties.services import finalize_run

    run_id = flow.create_run(currency="EUR")
    file_id = flow.processed_file(fixture_bytes("deezer_2026-09_semicolon.csv"), run_id, name="deezer.csv")
    flow.rates(run_id, [{"currency": "CHF", "period": "2026-09", "rate": "1.05"}])
    finalize_run(run=StatementRun.objects.get(pk=run_id))

    page = staff.get(f"/statements/{run_id}/").content.decode()
    assert 'id="files-locked"' in page
    assert "Process again" not in page and 'id="upload-form"' not in page
    # The page without JavaScript posted before the run was finalised: refused, no file left behind.
    upload = SimpleUploadedFile("late.csv", fixture_bytes("deezer_2026-09_semicolon.csv"), "text/csv")
    response = staff.post(f"/statements/{run_id}/upload/", {"upload-files": [upload]}, follow=True)
    assert response.status_code == 200
    assert f"Statement run #{run_id} is finalised: no more sales files." in response.content.decode()
    assert list(SalesFile.objects.values_list("pk", flat=True)) == [file_id]
