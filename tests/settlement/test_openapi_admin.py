"""The OpenAPI document and the read-only admin pages."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from settlement import selectors, services
from tests.settlement.conftest import SAMPLES, structure_body


def test_openapi_document_describes_every_endpoint(db):
    response = Client().get("/settlement/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/settlement/healthcheck",
        "/settlement/create/",
        "/settlement/{settleId}",
        "/settlement/{settleId}/history",
        "/settlement/{settleId}/settled",
        "/settlement/{settleId}/verify",
        "/settlement/{settleId}/update",
        "/settlement/{settleId}/settle",
        "/settlement/{settleId}/clear",
    }
    update = document["paths"]["/settlement/{settleId}/update"]["post"]
    assert {p["name"] for p in update["parameters"]} == {"settleId", "touched", "Idempotency-Key"}
    body = document["paths"]["/settlement/create/"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"mcCounter", "1CDR", "min", "max", "latest", "uniqueCount"}
    assert body["schema"]["properties"]["aggregationType"]["enum"] == [
        "mcCounter",
        "1CDR",
        "min",
        "max",
        "latest",
        "uniqueCount",
    ]
    error = document["components"]["schemas"]["SettleError"]
    assert error["properties"]["error"]["$ref"] == "#/components/schemas/SettleErrorDetail"
    assert document["paths"]["/settlement/healthcheck"]["get"].get("security") in ([], None)


@pytest.fixture
def staff_client(make_user):
    admin = make_user("admin", staff=True)
    admin.user_permissions.set(Permission.objects.filter(content_type__app_label="settlement"))
    client = Client()
    assert client.login(username="admin", password="pw-admin-123")
    return client


def test_admin_lists_structures_aggregates_history_and_settlements_read_only(staff_client):
    services.create_structure(payload=structure_body(), user="api")
    services.update_structure(settleid="testing", payload=SAMPLES["update"], user="api")
    services.settle_structure(settleid="testing", user="api")
    services.update_structure(settleid="testing", payload=SAMPLES["update"], user="api")
    for model in ("structure", "aggregate", "aggregatekey", "historyentry", "settlement"):
        response = staff_client.get(f"/admin/settlement/{model}/")
        assert response.status_code == 200, model
        assert b"addlink" not in response.content
    assert staff_client.get("/admin/settlement/structure/add/").status_code == 403
    page = staff_client.get("/admin/settlement/structure/").content.decode()
    assert "testing" in page and "history" in page
    structure_id = selectors.get_structure(settleid="testing").pk
    for model in ("aggregate", "historyentry", "settlement"):
        linked = staff_client.get(f"/admin/settlement/{model}/?structure__id__exact={structure_id}")
        assert linked.status_code == 200, model
