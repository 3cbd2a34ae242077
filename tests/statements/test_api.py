"""HTTP contract of the JSON API: authentication, validation and the rate-set endpoints."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from statements.models import ExchangeRate, StatementRun

pytestmark = pytest.mark.django_db


def test_anonymous_calls_get_401():
    client = Client()
    assert client.post("/api/statement_run/", {}, content_type="application/json").status_code == 401
    assert client.get("/api/files/salesfiles/1/").status_code == 401
    assert client.get("/api/statement_run/1/report/").status_code == 401


def test_session_user_outside_back_office_gets_403(make_user):
    client = Client()
    client.force_login(make_user("operator", groups=["operators"]))
    response = client.post("/api/statement_run/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403


def test_session_user_in_back_office_needs_csrf(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("clerk", groups=["back-office"]))
    response = client.post("/api/statement_run/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
    assert Client().get("/api/statement_run/1/").status_code == 401


def test_create_run_with_filters(api):
    body = {"name": "Q3", "currency": "usd", "artists": ["A"], "dsps": ["Spotify"], "periods": ["2026-09"]}
    response = api.post("/api/statement_run/", body, content_type="application/json")
    assert response.status_code == 201
    run = api.get(f"/api/statement_run/{response.json()['id']}/").json()
    assert run["currency"] == "USD" and run["status"] == "NO_FILES"
    assert run["filters"] == {
        "artists": ["A"],
        "dsps": ["Spotify"],
        "periods": ["2026-09"],
        "period_from": None,
        "period_to": None,
    }


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "'loc': ['body', 'payload', 'name'], 'msg': 'Field required'"),
        ({"name": " "}, 400, "name is required"),
        ({"name": "x", "currency": "EURO"}, 400, "not an ISO 4217 code"),
        ({"name": "x", "periods": ["2026-9"]}, 400, "'2026-9' is not YYYY-MM"),
        ({"name": "x", "periods": {"from": "2026-09", "to": "2026-01"}}, 400, "ends before it starts"),
        ({"name": "x", "artists": "A"}, 400, "'loc': ['body', 'payload', 'artists']"),
        ({"name": "x", "salesfiles": [424242]}, 404, "no sales file with id 424242"),
    ],
)
def test_create_run_rejects_bad_input(api, body, status, message):
    response = api.post("/api/statement_run/", body, content_type="application/json")
    assert response.status_code == status and message in str(response.json()["error"])


def test_create_run_rejects_non_json(api):
    response = api.post("/api/statement_run/", "nope", content_type="application/json")
    assert response.status_code == 400


def test_add_salesfile_needs_an_existing_file(flow, api):
    run_id = flow.create_run()
    assert (
        api.post(
            f"/api/statement_run/{run_id}/add-salesfile/", {}, content_type="application/json"
        ).status_code
        == 400
    )
    response = api.post(
        f"/api/statement_run/{run_id}/add-salesfile/", {"file_id": 999}, content_type="application/json"
    )
    assert response.status_code == 404
    assert (
        api.post(
            "/api/statement_run/999/add-salesfile/", {"file_id": 1}, content_type="application/json"
        ).status_code
        == 404
    )


def test_rates_from_csv_upload_and_from_raw_csv_body(flow, api):
    run_id = flow.create_run()
    upload = SimpleUploadedFile("rates.csv", b"\xef\xbb\xbfcurrency;period;rate\nUSD;2026-09;0,934210\n")
    assert api.post(f"/api/statement_run/{run_id}/currencies/", {"rates": upload}).status_code == 200
    assert list(ExchangeRate.objects.values_list("currency", "period", "rate")) == [
        ("USD", "2026-09", Decimal("0.934210"))
    ]
    response = api.post(
        f"/api/statement_run/{run_id}/currencies/", "GBP,2026-09,1.1\n", content_type="text/csv"
    )
    assert response.status_code == 200 and response.json() == {"status": "ok", "count": 1}
    assert list(ExchangeRate.objects.values_list("currency", flat=True)) == ["GBP"]


def test_invalid_rate_set_changes_nothing(flow):
    run_id = flow.create_run()
    flow.rates(run_id, [{"currency": "USD", "period": "2026-09", "rate": "0.9"}])
    response = flow.rates(
        run_id,
        [
            {"currency": "USD", "period": "2026-09", "rate": "-1"},
            {"currency": "GBP", "period": "2026-9", "rate": "1"},
            {"currency": "JPY", "period": "2026-09", "rate": "0.00600000001"},
            {"currency": "CHF", "period": "2026-09", "rate": "1"},
            {"currency": "CHF", "period": "2026-09", "rate": "1.1"},
        ],
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "rate_set_invalid"
    assert [p["msg"] for p in response.json()["error"]["problems"]] == [
        "item 1: rate '-1' must be a positive number",
        "item 2: period '2026-9' is not YYYY-MM",
        "item 3: rate '0.00600000001' has more than 10 decimal places",
        "item 5: duplicate rate for CHF 2026-09 (also item 4)",
    ]
    assert response.json()["error"]["problems"][0]["loc"] == ["item 1"]
    assert list(StatementRun.objects.get(pk=run_id).rates.values_list("currency", flat=True)) == ["USD"]


def test_exceptions_need_a_dsp_or_an_existing_sales_file(flow):
    run_id = flow.create_run()
    response = flow.rates(run_id, [{"currency": "USD", "rate": "1"}], kind="currencies_exception")
    assert (
        response.status_code == 400
        and 'needs "dsp" or "salesfile"' in response.json()["error"]["problems"][0]["msg"]
    )
    response = flow.rates(
        run_id, [{"currency": "USD", "rate": "1", "salesfile": 777}], kind="currencies_exception"
    )
    assert response.status_code == 404 and "no sales file with id 777" in response.json()["error"]["message"]


def test_exceptions_as_csv(flow, api):
    run_id = flow.create_run()
    file_id = flow.create_file()
    csv_text = f"currency,rate,dsp,salesfile,period\nUSD,0.8,Spotify,,\nUSD,0.85,,{file_id},2026-09\n"
    response = api.post(
        f"/api/statement_run/{run_id}/currencies_exception/", csv_text, content_type="text/csv"
    )
    assert response.status_code == 200
    run = api.get(f"/api/statement_run/{run_id}/").json()
    assert run["currency_exceptions"] == [
        {"currency": "USD", "rate": "0.8500000000", "dsp": None, "salesfile": file_id, "period": "2026-09"},
        {"currency": "USD", "rate": "0.8000000000", "dsp": "Spotify", "salesfile": None, "period": None},
    ]


def test_content_upload_over_the_limit_is_refused(flow, settings):
    settings.STATEMENTS_MAX_UPLOAD_BYTES = 10
    file_id = flow.create_file()
    response = flow.upload(file_id, b"x" * 100)
    assert response.status_code == 413 and "10-byte limit" in response.json()["error"]["message"]


def test_content_upload_needs_a_file(flow, api):
    file_id = flow.create_file()
    assert api.post(f"/api/files/salesfiles/{file_id}/content/").status_code == 400


def test_sales_file_name_is_required(api):
    assert api.post("/api/files/salesfiles/", {}, content_type="application/json").status_code == 400


def test_file_detail_shows_status_progress_and_counts(flow):
    file_id = flow.create_file("../../etc/passwd")
    data = flow.file(file_id)
    assert data["name"] == "../../etc/passwd"  # a display name only: storage keys use the id
    assert data["status"] == "INITIALIZED"
    assert data["progress"] == {"processed": 0, "total": None, "percent": None}


def test_add_salesfile_accepts_file_id_as_query_parameter(flow, api):
    run_id, file_id = flow.create_run(), flow.create_file()
    response = api.post(f"/api/statement_run/{run_id}/add-salesfile/?file_id={file_id}")
    assert response.status_code == 200
    assert [f["id"] for f in api.get(f"/api/statement_run/{run_id}/").json()["files"]] == [file_id]


def test_processed_file_content_cannot_be_replaced(flow, api):
    file_id = flow.processed_file(
        b"period,dsp,artist,territory,units,revenue,currency\n2026-09,S,A,IT,1,1,EUR\n"
    )
    assert flow.file(file_id)["status"] == "PROCESSED"
    response = flow.upload(file_id, b"other content")
    assert response.status_code == 409 and "create a new sales file" in response.json()["error"]["message"]
    assert api.post(f"/api/files/salesfiles/{file_id}/upload-url/").status_code == 409
    assert flow.process(file_id).status_code == 202  # re-processing the same content is allowed
    assert flow.file(file_id)["status"] == "PROCESSED"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/statement_run/999/", "run_not_found"),
        ("/api/statement_run/999/report/", "run_not_found"),
        ("/api/files/salesfiles/999/", "salesfile_not_found"),
    ],
)
def test_unknown_ids_are_json_404s(api, url, code):
    response = api.get(url)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == code
