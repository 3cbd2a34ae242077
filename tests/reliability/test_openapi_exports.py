"""Issue 8: the exports API's OpenAPI document is served, valid, complete, and every documented
operation — driven by hypothesis from the document — answers a documented status, never a 5xx.
Runs against the fake Moneybird server of tests/exports and the moto S3 server."""

import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exports import urls
from exports.openapi import openapi_document
from tests.exports.conftest import moneybird  # noqa: F401 (the fake Moneybird fixture)
from tests.reliability.openapi_support import (
    api_routes,
    check_answer,
    check_served_document,
    check_structure,
    operations,
    requests,
    send,
)

pytestmark = pytest.mark.django_db

DOCUMENT = openapi_document("http://testserver/")
OPERATIONS = operations(DOCUMENT)
COMMON = dict(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def test_document_is_public_json_and_refuses_writes(client):
    check_served_document(client, "/api/exports/openapi.json", DOCUMENT)


def test_document_is_valid_openapi_3_and_every_path_resolves_to_exports():
    check_structure(DOCUMENT, {"exports"})


def test_every_exports_api_url_is_documented():
    assert api_routes(urls.urlpatterns) == set(DOCUMENT["paths"])


@pytest.fixture
def world(moneybird, api_client, make_user, s3_storage, settings):  # noqa: F811 (fixture by name)
    """Synced documents, one export and one public file on S3; a staff client and names to aim at."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client = api_client(make_user("staff", staff=True))  # staff: the files writes reach their handler
    ids = [moneybird.add()["id"], moneybird.add("receipt")["id"], moneybird.add()["id"]]
    assert client.get("/api/exports/sync").status_code == 200
    exported = client.post("/api/exports/export", {"ids": ids[:1]}, content_type="application/json")
    assert exported.status_code == 200, exported.content
    written = client.post(
        "/api/exports/files", {"filename": "notes.txt", "data": "hi"}, content_type="application/json"
    )
    assert written.status_code == 201, written.content
    files = [exported["X-Export-File"], "incoming-summary-list.json", "notes.txt"]
    known_ids = st.sampled_from(ids)
    names = {
        "ids": st.lists(
            known_ids | known_ids | known_ids | st.integers() | st.text(max_size=40), min_size=1, max_size=3
        ),
        "filename": st.sampled_from(files)
        | st.sampled_from(["../x", "a/b.txt", "missing.xlsx"])
        | st.text(max_size=12),
        "X-Moneybird-Token": st.sampled_from(
            [moneybird.token, moneybird.token, "Bearer " + moneybird.token, "bad"]
        ),
        "encoding": st.sampled_from(["base64", "utf-8"]),
        "data": st.text(max_size=20) | st.sampled_from(["aGk=", "!!"]),
    }
    return client, names


def fuzz(settings_):
    @settings_
    @given(data=st.data(), operation=st.sampled_from(OPERATIONS))
    def check(world, data, operation):
        client, names = world
        request = data.draw(requests(operation, names))
        response = send(client, request)
        event(f"{operation.method.upper()} {operation.path} -> {response.status_code}")
        check_answer(operation, response)

    return check


test_every_documented_operation_answers_a_documented_status = fuzz(settings(max_examples=150, **COMMON))
test_every_documented_operation_answers_a_documented_status_thoroughly = pytest.mark.slow(
    fuzz(settings(max_examples=1500, **COMMON))
)


@pytest.mark.parametrize("token", ["mb-\u0100-token", "mb-token\x00", "mb\ttoken"])
def test_a_moneybird_token_http_cannot_send_is_a_400_not_a_500(world, token):
    client, _ = world
    response = client.get("/api/exports/sync", headers={"X-Moneybird-Token": token})
    assert response.status_code == 400
    assert "printable ASCII" in response.json()["error"]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/exports/export", {"ids": ["lone \ud9b9"]}),
        ("/api/exports/files", {"filename": "a.txt", "data": "lone \ud9b9"}),
        ("/api/exports/files", {"filename": "a.txt", "data": {"lone \ud9b9": 1}}),
    ],
)
def test_a_lone_surrogate_is_a_400_not_a_500(world, url, body):
    """Found by the fuzz: JSON escapes can carry lone surrogates, which neither UTF-8 nor PostgreSQL take."""
    client, _ = world
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert "surrogate" in response.json()["error"]


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
def test_undocumented_methods_answer_a_json_405(api_client, path):
    client = api_client()
    documented = set(DOCUMENT["paths"][path]) - {"parameters"}
    for method in {"get", "post", "put", "patch", "delete"} - documented:
        response = client.generic(method.upper(), path)
        assert response.status_code == 405, (method, path)
        assert "error" in response.json()
