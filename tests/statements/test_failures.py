"""Failures a user can act on: a FAILED file keeps what the cleaning found, and FAILED or abandoned
files are processed again from the API, the run page and the command; busy files are a 409."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from statements import services
from statements.models import SalesFile, SalesFileStatus
from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db
S = SalesFileStatus
ONLY_BAD_LINES = (
    b"period,dsp,artist,territory,units,revenue,currency\n2026-13,Tidal,A,NO,1,1,NOK\n2026-09,,A,NO,1,1,NOK\n"
)


def test_failed_file_keeps_its_format_counts_and_rejected_lines_report(flow, api):
    file_id = flow.processed_file(ONLY_BAD_LINES)
    data = flow.file(file_id)
    assert data["status"] == "FAILED" and data["failure_reason"].startswith(
        "no valid sales lines: 2 lines rejected"
    )
    assert data["format"] == "generic_csv"
    assert (data["lines_read"], data["lines_valid"], data["lines_rejected"]) == (3, 0, 2)
    report = b"".join(api.get(data["rejected_report"]).streaming_content).decode().splitlines()
    # The English reason, then its code and parameters (JSON), which the run page translates.
    assert report == [
        "line,reason,code,params",
        '2,period \'2026-13\' is not a month or a date,period_invalid,"{""value"": ""\'2026-13\'""}"',
        '3,dsp is empty,text_empty,"{""field"": ""dsp""}"',
    ]


def test_truncated_file_keeps_what_was_read_before_the_fatal_problem(flow):
    content = b"".join(
        fixture_bytes(
            "dsr/DSR_PADPIDA2026010101X_PADPIDA2014120301U_TidalHiFi_2026-09_WW_1of1_20261005T081200.tsv"
        ).splitlines(keepends=True)[:-3]
    )
    data = flow.file(flow.processed_file(content, name="tidal.tsv"))
    assert data["status"] == "FAILED" and "FOOT" in data["failure_reason"]
    assert data["format"] == "ddex_dsr" and data["lines_read"] > 0


def test_file_with_a_line_over_4_mib_fails_at_that_line_with_its_format(flow):
    content = fixture_bytes("spotify_2026-09.csv") + b"x" * ((4 << 20) + 1) + b"\n"
    long_line = content.count(b"\n")
    data = flow.file(flow.processed_file(content))
    assert data["status"] == "FAILED"
    assert data["failure_reason"] == "a line is longer than 4 MiB: not a text sales file"
    assert data["format"] == "generic_csv" and data["lines_read"] == long_line - 1


def test_failed_file_is_processed_again_through_the_api(flow):
    file_id = flow.processed_file(ONLY_BAD_LINES)
    assert flow.upload(file_id, fixture_bytes("spotify_2026-09.csv")).status_code == 200
    assert flow.process(file_id).status_code == 202
    assert flow.file(file_id)["status"] == "PROCESSED"


def _stuck(status: str, lease_until) -> SalesFile:
    sales_file = services.create_sales_file(name="sales.csv", user=None)
    services.store_content(sales_file=sales_file, content=_upload(fixture_bytes("spotify_2026-09.csv")))
    SalesFile.objects.filter(pk=sales_file.pk).update(status=status, lease_until=lease_until)
    return SalesFile.objects.get(pk=sales_file.pk)


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("sales.csv", content)


@pytest.mark.parametrize("status", [S.CLEANING, S.CLEANED, S.IMPORTING])
def test_file_stuck_mid_pipeline_with_no_live_task_is_processed_again(flow, status):
    sales_file = _stuck(status, timezone.now() - timedelta(seconds=1))
    response = flow.process(sales_file.pk)
    assert response.status_code == 202
    assert flow.file(sales_file.pk)["status"] == "PROCESSED"
    first = sales_file.events.order_by("pk").first()
    assert (first.from_status, first.to_status) == (status, S.UPLOADED)
    assert first.reason.startswith(f"taken over: no live task held the file in {status}")


def test_file_a_task_holds_is_a_409_naming_the_lease(flow):
    sales_file = _stuck(S.IMPORTING, timezone.now() + timedelta(minutes=5))
    response = flow.process(sales_file.pk)
    assert response.status_code == 409 and "a task is processing it" in response.json()["error"]["message"]
    assert SalesFile.objects.get(pk=sales_file.pk).status == S.IMPORTING


def test_progress_renews_the_lease():
    sales_file = _stuck(S.CLEANING, timezone.now() - timedelta(seconds=1))
    services.record_progress(sales_file.pk, 10)
    assert services.is_held(SalesFile.objects.get(pk=sales_file.pk))


def test_command_takes_over_a_file_whose_task_died(capsys):
    sales_file = _stuck(S.CLEANED, None)
    call_command("process_salesfile", str(sales_file.pk))
    assert "PROCESSED, 6 lines imported" in capsys.readouterr().out


def test_run_page_processes_a_failed_file_again(flow, make_user):
    run_id = flow.create_run()
    file_id = flow.processed_file(ONLY_BAD_LINES, run_id)
    client = Client()
    client.force_login(make_user("boss", staff=True))
    page = client.get(f"/statements/{run_id}/").content.decode()
    assert "Process again" in page and "3 read, 0 imported" in page
    services.store_content(
        sales_file=SalesFile.objects.get(pk=file_id), content=_upload(fixture_bytes("spotify_2026-09.csv"))
    )
    response = client.post(f"/statements/{run_id}/files/{file_id}/process/")
    assert response.status_code == 302 and response["Location"] == f"/statements/{run_id}/"
    assert SalesFile.objects.get(pk=file_id).status == S.PROCESSED
    page = client.get(f"/statements/{run_id}/").content.decode()
    assert "queued for processing" in page and "USD: 3 lines, 6190 units, 19.808" in page


def test_requested_profile_is_kept_on_the_file(api):
    response = api.post(
        "/api/files/salesfiles/", {"name": "a.csv", "profile": "ddex_dsr"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert api.get(f"/api/files/salesfiles/{response.json()['id']}/").json()["profile"] == "ddex_dsr"
    bad = api.post(
        "/api/files/salesfiles/", {"name": "a.csv", "profile": "../x"}, content_type="application/json"
    )
    assert bad.status_code == 400


def test_requested_profile_must_be_an_active_import_profile(api):
    response = api.post(
        "/api/files/salesfiles/", {"name": "a.csv", "profile": "napster"}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_profile"
    assert "symphonic" in response.json()["error"]["message"]
    response = api.post(
        "/api/files/salesfiles/", {"name": "a.csv", "profile": "symphonic"}, content_type="application/json"
    )
    assert response.status_code == 201
