"""project.api: the ninja layer the JSON APIs share (auth, one error mapping, offline docs),
exercised through the tiny APIs of tests/platform/api_urls.py."""

import json
import re

import pytest
from django.test import Client

from project.api import APIS
from project.tokens import issue_api_token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.platform.api_urls")]
CSRF = "a" * 32  # an unmasked CSRF secret, sent as cookie and header like a browser would


@pytest.fixture(autouse=True, scope="module")
def _forget_test_apis():
    """The test APIs register themselves for the docs index; other tests' index must not see them."""
    yield
    APIS.pop("example", None)
    APIS.pop("example-own-body", None)


@pytest.fixture
def token_client(make_user) -> Client:
    _, raw = issue_api_token(user=make_user("machine"), scopes=["settlement:write"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def session_client(make_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("clerk", groups=["back-office"]))
    return client


def no_repeated_keys(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)


def error(response) -> dict:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()["error"]


def post(client: Client, body: dict, **headers):
    return client.post("/example/items", body, content_type="application/json", headers=headers)


# Authentication


def test_no_credentials_is_401_with_bearer_challenge(client):
    response = client.get("/example/items/one")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert error(response)["code"] == "unauthenticated"


def test_no_credentials_says_authentication_is_required(client):
    assert error(client.get("/example/items/one"))["message"].startswith("Authentication required")


def test_unknown_token_is_401_invalid_token(client):
    response = client.get("/example/items/one", headers={"Authorization": "Bearer bo_nope"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert error(response) == {"code": "invalid_token", "message": "Invalid or expired token", "problems": []}


def test_expired_token_is_401_invalid_token(client, make_user):
    from datetime import timedelta

    from django.utils import timezone

    _, raw = issue_api_token(
        user=make_user("machine"),
        scopes=["settlement:write"],
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    response = client.get("/example/items/one", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert error(response)["code"] == "invalid_token"


def test_a_session_still_holds_beside_a_token_that_is_not_ours(session_client):
    """The exports API lets a browser session send Moneybird's token as a bearer token."""
    response = session_client.get("/example/items/one", headers={"Authorization": "Bearer moneybird-token"})
    assert response.json()["owner"] == "clerk"


def test_invalid_token_in_an_api_with_its_own_error_body(client):
    response = client.post("/example-own-body/items", headers={"Authorization": "Bearer bo_nope"})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "X-02", "message": "Invalid or expired token"}}


def test_token_reads_and_writes_without_csrf(token_client):
    assert token_client.get("/example/items/one").json() == {"name": "one", "quantity": 1, "owner": "machine"}
    response = post(token_client, {"name": "two", "quantity": 2})
    assert response.status_code == 200
    assert response.json()["owner"] == "machine"


def test_token_is_asked_for_the_apis_scope_and_the_methods_kind(token_client, monkeypatch):
    from project import api

    calls = []
    real = api.user_for_token
    monkeypatch.setattr(api, "user_for_token", lambda raw, **kw: calls.append(kw) or real(raw, **kw))
    token_client.get("/example/items/one")
    post(token_client, {"name": "two", "quantity": 2})
    assert calls == [{"scope": "settlement", "write": False}, {"scope": "settlement", "write": True}]


def test_token_out_of_scope_is_403(token_client, monkeypatch):
    from project import api
    from project.errors import Forbidden

    def refuse(raw, *, scope, write):
        raise Forbidden("This token may not write to example", code="token_scope")

    monkeypatch.setattr(api, "user_for_token", refuse)
    response = post(token_client, {"name": "two", "quantity": 2})
    assert response.status_code == 403
    assert error(response)["code"] == "token_scope"


def test_session_reads_without_csrf(session_client):
    assert session_client.get("/example/items/one").json()["owner"] == "clerk"


def test_session_write_without_csrf_token_is_403(session_client):
    response = post(session_client, {"name": "two", "quantity": 2})
    assert response.status_code == 403
    assert error(response)["code"] == "csrf_failed"


def test_session_write_with_csrf_token_passes(session_client):
    session_client.cookies["csrftoken"] = CSRF
    response = post(session_client, {"name": "two", "quantity": 2}, X_CSRFTOKEN=CSRF)
    assert response.status_code == 200
    assert response.json()["owner"] == "clerk"


def test_session_outside_back_office_group_is_403(make_user):
    client = Client()
    client.force_login(make_user("operator", groups=["operators"]))
    response = client.get("/example/items/one")
    assert response.status_code == 403
    assert error(response)["code"] == "forbidden"


def test_token_wins_over_a_session_of_another_user(token_client, make_user):
    token_client.force_login(make_user("operator", groups=["operators"]))
    assert token_client.get("/example/items/one").json()["owner"] == "machine"


# One error mapping


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("taken", 409, "item_exists"),
        ("bad", 400, "invalid_input"),
        ("down", 503, "unavailable"),
        ("database", 503, "unavailable"),
    ],
)
def test_domain_and_database_errors_map_to_status_and_code(token_client, name, status, code):
    response = post(token_client, {"name": name, "quantity": 2})
    assert response.status_code == status
    assert error(response)["code"] == code


def test_not_found_carries_the_services_code_and_message(token_client):
    response = token_client.get("/example/items/nine")
    assert response.status_code == 404
    assert error(response) == {"code": "item_not_found", "message": "No item 'nine'", "problems": []}


def test_invalid_input_lists_its_problems(token_client):
    body = error(post(token_client, {"name": "bad", "quantity": 2}))
    assert body["problems"] == [{"loc": ["name"], "msg": "reserved"}, {"loc": ["quantity"], "msg": "odd"}]


def test_schema_validation_is_400_with_a_problem_per_field(token_client):
    response = post(token_client, {"quantity": 0})
    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "invalid_input"
    assert {tuple(p["loc"]) for p in body["problems"]} == {
        ("body", "payload", "name"),
        ("body", "payload", "quantity"),
    }
    assert "quantity" in body["message"]


def test_unparseable_body_is_400_with_the_parsers_reason(token_client):
    response = token_client.post("/example/items", b'{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert "Expecting value" in error(response)["message"]


@pytest.mark.parametrize(
    "body",
    [b"{", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b"1" * 5000],
    ids=["truncated", "not-utf8", "deep-nesting", "huge-integer"],
)
def test_any_unparseable_body_is_a_400(token_client, body):
    response = token_client.post("/example/items", body, content_type="application/json")
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_input"


def test_unsupported_method_is_405_in_the_error_body(token_client):
    response = token_client.delete("/example/items/one")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert error(response)["code"] == "method_not_allowed"


def test_an_api_can_bring_its_own_error_body(token_client):
    response = token_client.post(
        "/example-own-body/items", {"name": "a", "quantity": 1}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "X-02", "message": "Item exists"}}
    response = token_client.post("/example-own-body/items", {"name": "a"}, content_type="application/json")
    assert response.json()["error"]["code"] == "X-01"
    assert Client().post("/example-own-body/items").json()["error"]["code"] == "X-02"  # 401


# Unknown paths


@pytest.mark.parametrize(
    "path",
    [
        "/api/nothing",
        "/api/nothing/",
        "/api/statement_run/1/nothing",
        "/api/exports/nothing",
        "/example/nothing",
    ],
)
def test_unknown_path_under_an_api_is_a_json_404_in_its_error_body(client, path):
    for method in (client.get, client.post, client.delete):
        response = method(path)
        assert response.status_code == 404
        assert error(response) == {
            "code": "not_found",
            "message": f"No API endpoint at {path}",
            "problems": [],
        }


def test_unknown_path_under_an_api_with_its_own_body(client):
    response = client.get("/example-own-body/nothing")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "X-02", "message": "No API endpoint at /example-own-body/nothing"}
    }


@pytest.mark.parametrize("path", ["/settlement/a/b/c", "/settlement/a/nothing", "/settlement"])
def test_unknown_settlement_path_is_a_json_404_in_the_settle_error_body(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "SETTLE-02"


def test_unknown_page_outside_the_apis_stays_an_html_404(client):
    response = client.get("/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/example/items/one", "/settlement/testing/verify", "/api/exports/nothing"])
def test_a_host_header_django_refuses_is_a_json_400_under_an_api(client, path):
    # Schemathesis sent "Host: /": Django refuses it before any view (DisallowedHost).
    response = client.get(path, headers={"host": "/"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "Host" in json.dumps(response.json())


def test_a_host_header_django_refuses_is_an_html_400_page_elsewhere(client):
    response = client.get("/nothing/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b'id="error-message"' in response.content


# Documents and docs


def test_openapi_document_is_public_and_documents_the_error_body(client):
    response = client.get("/example/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["ApiAuth"] == {"type": "http", "scheme": "bearer"}
    responses = document["paths"]["/example/items/{name}"]["get"]["responses"]
    assert {"200", "400", "401", "403", "404", "503"} <= set(responses)
    assert responses["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert responses["200"]["description"] == "The item"  # openapi_extra's "200" merged into ninja's 200
    json.loads(response.content, object_pairs_hook=no_repeated_keys)  # Swagger UI refuses repeated keys
    assert "ErrorDetail" in document["components"]["schemas"]


def test_openapi_document_refuses_other_methods_in_the_error_body(client):
    response = client.post("/example/openapi.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert error(response)["code"] == "method_not_allowed"


def test_docs_index_links_every_api(client):
    html = client.get("/api/docs/").content.decode()
    assert 'href="/api/docs/example/"' in html and 'href="/example/openapi.json"' in html
    assert 'href="/api/docs/example-own-body/"' in html


def test_docs_page_uses_only_local_assets(client):
    response = client.get("/api/docs/example/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '"url": "/example/openapi.json"' in html
    assert '"validatorUrl": null' in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html), (
        "the docs page must not load anything from elsewhere"
    )
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_docs_of_an_unknown_api_is_404(client):
    assert client.get("/api/docs/nothing/").status_code == 404


def test_docs_page_is_inside_the_sites_layout(client, make_user):
    client.force_login(make_user("clerk", groups=["back-office"]))
    html = client.get("/api/docs/example/").content.decode()
    assert '<header class="top">' in html and 'href="/exports/"' in html  # the site's navigation
    assert 'href="/api/docs/"' in html
    assert 'data-api-csrf="true"' in html and 'id="swagger-ui"' in html
