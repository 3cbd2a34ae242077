"""The spec's sequence diagram end to end on a real S3 endpoint (moto server) and PostgreSQL."""

import io
from decimal import Decimal

import openpyxl
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from statements.cleaners.base import CLEAN_COLUMNS
from statements.models import SalesFile, SalesFileEvent, SalesFileSnapshot, SalesLine
from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def test_full_flow_with_presigned_post_to_s3(flow, api, s3_storage, s3_server):
    run_id = flow.create_run(name="Q3 2026", currency="EUR", periods=["2026-09"])

    rates_csv = b"currency,period,rate\nGBP,2026-09,1.150000\nUSD,2026-09,0.900000\n"
    response = api.post(
        f"/api/statement_run/{run_id}/currencies/", {"file": SimpleUploadedFile("rates.csv", rates_csv)}
    )
    assert response.status_code == 200, response.content
    response = flow.rates(
        run_id, [{"currency": "USD", "rate": "0.800000", "dsp": "Spotify"}], kind="currencies_exception"
    )
    assert response.status_code == 200, response.content

    file_id = flow.create_file("spotify_2026-09.csv")
    flow.add_file(run_id, file_id)
    response = api.post(f"/api/files/salesfiles/{file_id}/upload-url/")
    assert response.status_code == 200
    presigned = response.json()
    assert presigned["method"] == "POST" and presigned["expires_in"] == 3600
    assert presigned["url"].startswith(s3_server.endpoint_url)
    upload = requests.post(
        presigned["url"],
        data=presigned["fields"],
        files={presigned["field"]: fixture_bytes("spotify_2026-09.csv")},
        timeout=10,
    )
    assert upload.status_code == 204

    # Before processing, the report is refused and says why.
    response = flow.report(run_id)
    assert response.status_code == 409
    assert (
        f"#{file_id}" in response.json()["error"]["message"]
        and "is initialized" in response.json()["error"]["message"]  # the status by its label
    )

    response = flow.process(file_id)
    assert response.status_code == 202
    assert response.json() == {"id": file_id, "status": "UPLOADED"}

    data = flow.file(file_id)
    assert data["status"] == "PROCESSED", data
    assert data["format"] == "generic_csv"
    assert (data["lines_read"], data["lines_valid"], data["lines_rejected"]) == (7, 6, 0)
    assert data["progress"] == {"processed": 6, "total": 6, "percent": 100.0}
    transitions = list(
        SalesFileEvent.objects.filter(sales_file_id=file_id).values_list("to_status", flat=True)
    )
    assert transitions == ["UPLOADED", "CLEANING", "CLEANED", "IMPORTING", "PROCESSED"]

    keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_storage)["Contents"]}
    prefix = f"statements/salesfiles/{file_id}/"
    assert keys == {prefix + "upload", prefix + "cleaned.csv", prefix + "rejected.csv"}
    cleaned = s3_server.client().get_object(Bucket=s3_storage, Key=prefix + "cleaned.csv")["Body"].read()
    assert cleaned.decode().splitlines()[0] == ",".join(CLEAN_COLUMNS)
    assert SalesLine.objects.filter(sales_file_id=file_id).count() == 6
    snapshot = SalesFileSnapshot.objects.get(sales_file_id=file_id, currency="USD")
    assert (snapshot.lines, snapshot.units, snapshot.revenue) == (3, 6190, Decimal("19.808"))

    run = api.get(f"/api/statement_run/{run_id}/").json()
    assert run["status"] == "PROCESSED"
    assert [f["status"] for f in run["files"]] == ["PROCESSED"]

    report = flow.report(run_id).json()
    assert report["currency"] == "EUR"
    # USD lines are Spotify's, so the DSP exception (0.8) wins over the run rate (0.9).
    assert {(r["artist"], r["territory"], r["source_currency"]): r["rate"] for r in report["rows"]} == {
        ("Aurora Lane", "GB", "GBP"): "1.150000",
        ("Aurora Lane", "US", "USD"): "0.800000",
        ("The Quiet Hours", "DE", "EUR"): "1.000000",
        ("The Quiet Hours", "IT", "EUR"): "1.000000",
        ("The Quiet Hours", "US", "USD"): "0.800000",
    }
    # Aurora: GBP 3.601234*1.15=4.14141910 → 4.14; USD (17.28+2.56)*0.8=15.872 → 15.87.
    # Quiet Hours: 8.125 + 2.9345 - 0.032*0.8 = 11.0339 → 11.03 (rounded once, from the exact sum;
    # adding the rounded rows 8.12 + 2.93 - 0.03 would give 11.02).
    assert report["artists"] == [
        {"artist": "Aurora Lane", "units": 7400, "total": "20.01", "exact": "20.0134191"},
        {"artist": "The Quiet Hours", "units": 3390, "total": "11.03", "exact": "11.0339"},
    ]
    assert (report["grand_total"], report["grand_total_exact"]) == ("31.05", "31.0473191")

    csv_response = flow.report(run_id, "csv")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode().splitlines()[-1] == "grand_total,,,,,,10790,,,31.05,31.0473191"
    workbook = openpyxl.load_workbook(io.BytesIO(flow.report(run_id, "xlsx").content))
    assert workbook.sheetnames == ["Summary", "Lines", "Control totals"]
    assert {row[0].value for row in workbook["Lines"].iter_rows(min_row=2)} == {
        "Aurora Lane",
        "The Quiet Hours",
    }


def test_upload_url_on_local_storage_points_to_the_content_endpoint(flow, api):
    file_id = flow.create_file()
    response = api.post(f"/api/files/salesfiles/{file_id}/upload-url/")
    assert response.status_code == 200
    body = response.json()
    assert body["method"] == "POST" and body["field"] == "file"
    assert body["url"].endswith(f"/api/files/salesfiles/{file_id}/content/")
    assert "local files" in body["detail"]


def test_direct_content_upload_to_s3_then_processing(flow, s3_storage, s3_server):
    file_id = flow.processed_file(
        fixture_bytes(
            "dsr/DSR_PADPIDA2026010101X_PADPIDA2014120301U_TidalHiFi_2026-09_WW_1of1_20261005T081200.tsv"
        ),
        name="tidal.tsv",
    )
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED" and data["format"] == "ddex_dsr"
    assert SalesFile.objects.get(pk=file_id).size == len(
        fixture_bytes(
            "dsr/DSR_PADPIDA2026010101X_PADPIDA2014120301U_TidalHiFi_2026-09_WW_1of1_20261005T081200.tsv"
        )
    )
