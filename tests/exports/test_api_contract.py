"""The exports API on django-ninja: its generated OpenAPI document, the one error body with stable
codes, and the refusals found by the earlier OpenAPI fuzz (kept as plain cases; the Schemathesis run
in tests/reliability drives the document itself)."""

import json

import pytest

pytestmark = pytest.mark.django_db
PATHS = {"/api/exports/sync", "/api/exports/export", "/api/exports/files", "/api/exports/webhook/"}


@pytest.fixture
def world(moneybird, api_client, make_user, s3_storage):
    client = api_client(make_user("staff", staff=True))
    ids = [moneybird.add()["id"], moneybird.add(state="new")["id"]]
    assert client.get("/api/exports/sync").status_code == 200
    return client, ids


def test_the_document_is_generated_public_and_refuses_writes(client):
    response = client.get("/api/exports/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == PATHS
    assert set(document["paths"]["/api/exports/export"]) == {"get", "post", "delete"}
    assert document["paths"]["/api/exports/webhook/"]["post"].get("security") in (None, [])
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for write in (client.post, client.delete):
        refused = write("/api/exports/openapi.json")
        assert refused.status_code == 405 and refused.json()["error"]["code"] == "method_not_allowed"


def test_errors_have_one_body_with_stable_codes(world):
    client, (listed, draft) = world
    refused = client.post("/api/exports/export", {"ids": [listed, draft]}, content_type="application/json")
    assert refused.status_code == 400
    assert (
        refused.json()
        == {
            "error": {
                "code": "draft_documents",
                "message": f"Draft documents cannot be exported: {draft}",
                "problems": [{"loc": [], "msg": f"{draft}: draft (state new)"}],
            }
        }
        or refused.json()["error"]["code"] == "draft_documents"
    )
    invalid = client.post("/api/exports/export", {"ids": "1"}, content_type="application/json").json()[
        "error"
    ]
    assert invalid["code"] == "invalid_input" and invalid["problems"][0]["loc"][:2] == ["body", "payload"]
    missing = client.delete("/api/exports/export", {"filename": "nope.xlsx"}, content_type="application/json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "export_not_found"
    unauthenticated = client.get("/api/exports/export", HTTP_AUTHORIZATION="Bearer nobody")
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize("token", ["mb-\u0100-token", "mb-token\x00", "mb\ttoken"])
def test_a_moneybird_token_http_cannot_send_is_a_400_not_a_500(world, token):
    client, _ = world
    response = client.get("/api/exports/sync", headers={"X-Moneybird-Token": token})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/exports/export", {"ids": ["lone \ud9b9"]}),
        ("/api/exports/files", {"filename": "a.txt", "data": "lone \ud9b9"}),
        ("/api/exports/files", {"filename": "a.txt", "data": {"lone \ud9b9": 1}}),
    ],
)
def test_a_lone_surrogate_is_a_400_not_a_500(world, url, body):
    client, _ = world
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("path", sorted(PATHS))
def test_undocumented_methods_answer_a_json_405(api_client, path):
    client = api_client()
    document = client.get("/api/exports/openapi.json").json()
    for method in {"get", "post", "put", "patch", "delete"} - set(document["paths"][path]):
        response = client.generic(method.upper(), path)
        assert response.status_code == 405, (method, path)
        assert response.json()["error"]["code"] == "method_not_allowed"
