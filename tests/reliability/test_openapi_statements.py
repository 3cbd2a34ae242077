"""Issue 8: the statements API's OpenAPI document is served, valid, complete, and every documented
operation — driven by hypothesis from the document — answers a documented status, never a 5xx.
Runs on the default local-file storage, with django-q2 tasks inline."""

import json
import re
import time

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from statements import urls
from statements.openapi import openapi_document
from statements.webhook import sign
from tests.reliability.openapi_support import (
    api_routes,
    check_answer,
    check_served_document,
    check_structure,
    operations,
    requests,
    send,
)
from tests.statements.conftest import Flow, fixture_bytes

pytestmark = pytest.mark.django_db

DOCUMENT = openapi_document("http://testserver/")
OPERATIONS = operations(DOCUMENT)
SECRET = "openapi-fuzz-secret"
COMMON = dict(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def test_document_is_public_json_and_refuses_writes(client):
    check_served_document(client, "/api/statements/openapi.json", DOCUMENT)


def test_document_is_valid_openapi_3_and_every_path_resolves_to_statements():
    check_structure(DOCUMENT, {"statements"})


def test_every_statements_api_url_is_documented():
    assert api_routes(urls.urlpatterns) == set(DOCUMENT["paths"])


@pytest.fixture
def world(api_client, settings):
    """A reportable run (a processed sales file with rejected lines, its rates) and a fresh file;
    names pointing the generated values at them."""
    settings.STATEMENTS_WEBHOOK_SECRET = SECRET
    flow = Flow(api_client())
    run_id = flow.create_run()
    processed = flow.processed_file(fixture_bytes("with_errors.csv"), run_id, "with_errors.csv")
    fresh = flow.create_file()
    rates = [
        {"currency": "NOK", "period": "2026-09", "rate": "0.085"},
        {"currency": "SEK", "period": "2026-09", "rate": "0.087"},
    ]
    assert flow.rates(run_id, rates).status_code == 200
    known = st.sampled_from([run_id, processed, fresh])
    ids = known | known | known | st.sampled_from([0, 10**6, 2**31, 2**63])
    names = {
        "currency": st.sampled_from(["NOK", "EUR", "USD", "GBP", "eur", "XXX"]),
        "period": st.sampled_from(["2026-09", "2026-10", "2026-13"]),
        "format": st.sampled_from(["json", "csv", "xlsx", "XLSX", "pdf"]),
        # Around now, so some signed events are fresh enough to be applied.
        "timestamp": st.integers(-400, 400).map(lambda seconds: int(time.time()) + seconds),
        "run_id": ids,
        "statement_id": ids,
        "file_id": ids,
        "salesfiles": st.lists(ids, max_size=3),
    }
    return flow.client, names


def fuzz(settings_):
    @settings_
    @given(data=st.data(), operation=st.sampled_from(OPERATIONS), signed=st.booleans())
    def check(world, data, operation, signed):
        client, names = world
        request = data.draw(requests(operation, names))
        if operation.path == "/api/statements/webhook/" and signed and isinstance(request.body, bytes):
            request.headers["X-Signature"] = sign(request.body, SECRET)
        response = send(client, request)
        event(f"{operation.method.upper()} {operation.path} -> {response.status_code}")
        check_answer(operation, response)

    return check


test_every_documented_operation_answers_a_documented_status = fuzz(settings(max_examples=150, **COMMON))
test_every_documented_operation_answers_a_documented_status_thoroughly = pytest.mark.slow(
    fuzz(settings(max_examples=1500, **COMMON))
)


@pytest.mark.parametrize("text", ["nul\x00", "lone \ud9b9 surrogate"])
def test_text_postgresql_cannot_store_is_a_400_not_a_500(api_client, settings, text):
    """Found by the fuzz: NUL characters and lone surrogates (valid JSON escapes) reached the database."""
    settings.STATEMENTS_WEBHOOK_SECRET = SECRET
    flow = Flow(api_client())
    run_id, file_id = flow.create_run(), flow.create_file()
    event = {"event_id": "e1", "timestamp": int(time.time()), "file_id": file_id, "event": "failed"}
    requests_ = {
        "/api/files/salesfiles/": {"name": text},
        "/api/statement_run/": {"name": text},
        "/api/statement_run/?artists": {"name": "Q3", "artists": [text]},
        f"/api/statement_run/{run_id}/currencies_exception/": [{"currency": "NOK", "rate": "1", "dsp": text}],
        "/api/statements/webhook/": {**event, "reason": text},
        "/api/statements/webhook/?nested": {**event, "reason": "x", "extra": {text: [text]}},
    }
    for url, payload in requests_.items():
        body = json.dumps(payload).encode()
        response = flow.client.post(
            url.partition("?")[0],
            body,
            content_type="application/json",
            headers={"X-Signature": sign(body, SECRET)},
        )
        assert response.status_code == 400, (url, response.content)
        assert "cannot be stored" in json.dumps(response.json()), url


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
def test_undocumented_methods_answer_a_json_405(api_client, path):
    client = api_client()
    documented = set(DOCUMENT["paths"][path]) - {"parameters"}
    url = re.sub(r"\{\w+\}", "1", path)
    for method in {"get", "post", "put", "patch", "delete"} - documented:
        response = client.generic(method.upper(), url)
        assert response.status_code == 405, (method, path)
        assert "error" in response.json()
