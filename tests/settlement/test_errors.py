"""Every SETTLE error code with its HTTP status, in the {"error": {"code", "message"}} envelope."""

import json

import pytest
from django.db import connections
from django.test import Client

from settlement import services
from settlement.models import Aggregate, HistoryEntry, Structure
from tests.settlement.conftest import SAMPLES, cdr_body, post, structure_body


def assert_error(response, status: int, code: str, *fragments: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    for fragment in fragments:
        assert fragment in body["error"]["message"]
    return body["error"]["message"]


@pytest.fixture
def testing(api):
    assert post(api, "/settlement/create/", structure_body()).status_code == 200
    return api


def test_unparseable_json_is_settle_01_400(testing):
    for path in ("/settlement/create/", "/settlement/testing/update"):
        response = testing.post(path, data=b'{"record": [', content_type="application/json")
        assert_error(response, 400, "SETTLE-01", "not valid JSON")


def test_nan_and_deeply_nested_json_are_settle_01_400(testing):
    response = testing.post(
        "/settlement/testing/update", data=b'{"record": NaN}', content_type="application/json"
    )
    assert_error(response, 400, "SETTLE-01")
    nested = b"[" * 100_000 + b"]" * 100_000
    assert_error(
        testing.post("/settlement/create/", data=nested, content_type="application/json"), 400, "SETTLE-01"
    )


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"settleid": ""}, "'settleid'"),
        ({"settleid": "a/b"}, "URL path"),
        ({"settleid": "create"}, "reserved"),
        ({"aggregates": []}, "'aggregates'"),
        ({"aggregates": ["op", "op"]}, "more than once"),
        ({"aggregates": 7}, "'aggregates'"),
        ({"primaryKey": None}, "'primaryKey'"),
        ({"aggregationType": "sum"}, "'aggregationType'"),
        ({"settlementType": "string"}, "'settlementType'"),
        ({"record": "{}"}, "'record'"),
        ({"record": {"op": "CREATE"}}, "lacks 'app'"),
        ({"aggregates": ["msg"]}, "lacks 'msg'"),
    ],
)
def test_invalid_structures_are_settle_01_400(api, changes, fragment):
    assert_error(
        post(api, "/settlement/create/", {**structure_body("bad"), **changes}), 400, "SETTLE-01", fragment
    )


def test_a_body_that_is_not_an_object_is_settle_01_400(testing):
    for body in ([], "x", 3, None):
        assert_error(post(testing, "/settlement/create/", body), 400, "SETTLE-01")
        assert_error(post(testing, "/settlement/testing/update", body), 400, "SETTLE-01")
    for body in ({}, {"record": []}, {"record": "x"}, {"records": []}):
        assert_error(post(testing, "/settlement/testing/update", body), 400, "SETTLE-01")


def test_a_record_without_the_primary_key_refuses_the_whole_batch_naming_its_index(testing):
    records = [*SAMPLES["update"]["record"], {"op": "CREATE"}, {"app": None, "op": "X"}]
    message = assert_error(
        post(testing, "/settlement/testing/update", {"record": records}), 400, "SETTLE-01", "record[3] (4th)"
    )
    assert "record[4] (5th)" in message
    assert "'app'" in message
    assert not Aggregate.objects.exists()
    assert HistoryEntry.objects.count() == 1  # the Create entry only


def test_a_non_numeric_1cdr_field_refuses_the_batch_naming_its_index(api):
    post(api, "/settlement/create/", cdr_body())
    records = [
        {"operator": "TIM", "minutes": "3", "amount": "1.5"},
        {"operator": "TIM", "minutes": "3", "amount": "abc"},
    ]
    assert_error(
        post(api, "/settlement/cdr/update", {"record": records}),
        400,
        "SETTLE-01",
        "record[1] (2nd)",
        "'amount'",
    )
    records[1]["amount"] = True
    assert_error(post(api, "/settlement/cdr/update", {"record": records}), 400, "SETTLE-01", "record[1]")
    records[1]["amount"] = "0.0000000000001"  # 13 decimal places cannot be stored exactly
    assert_error(post(api, "/settlement/cdr/update", {"record": records}), 400, "SETTLE-01", "decimal places")
    assert not Aggregate.objects.exists()


def test_unknown_settle_id_is_settle_02_404(api):
    assert_error(api.get("/settlement/nope"), 404, "SETTLE-02", "'nope'")
    assert_error(api.get("/settlement/nope/history"), 404, "SETTLE-02")
    assert_error(api.get("/settlement/nope/settled"), 404, "SETTLE-02")
    assert_error(post(api, "/settlement/nope/update", SAMPLES["update"]), 404, "SETTLE-02")
    assert_error(post(api, "/settlement/nope/settle"), 404, "SETTLE-02")
    assert_error(post(api, "/settlement/nope/clear"), 404, "SETTLE-02")


def test_unknown_paths_under_settlement_answer_in_the_envelope(api):
    assert_error(api.get("/settlement/testing/unknown"), 404, "SETTLE-02")


def test_duplicate_create_is_settle_02_409(testing):
    assert_error(post(testing, "/settlement/create/", structure_body()), 409, "SETTLE-02", "already exists")


def test_totals_beyond_28_digits_stay_exact_and_wider_values_are_refused(api):
    post(api, "/settlement/create/", cdr_body())
    big = "9" * 28
    for _ in range(3):
        response = post(api, "/settlement/cdr/update", {"record": {"operator": "TIM", "amount": big}})
        assert response.status_code == 200
    services.fold_structure(structure_id=Structure.objects.get(settleid="cdr").pk)
    post(api, "/settlement/cdr/update", {"record": {"operator": "TIM", "amount": big}})
    assert api.get("/settlement/cdr").json()["output"]["aggregates"] == {"TIM": {"amount": str(4 * int(big))}}
    too_wide = {"record": {"operator": "TIM", "amount": "1" + "0" * 28}}
    assert_error(post(api, "/settlement/cdr/update", too_wide), 400, "SETTLE-01", "28 integer digits")


def test_wrong_method_is_settle_02_405(testing):
    assert_error(testing.get("/settlement/create/"), 405, "SETTLE-02")
    assert_error(testing.get("/settlement/testing/update"), 405, "SETTLE-02")
    assert_error(post(testing, "/settlement/testing"), 405, "SETTLE-02")
    assert_error(testing.delete("/settlement/testing/clear"), 405, "SETTLE-02")


def test_no_token_is_401_in_the_envelope(db):
    anonymous = Client()
    assert_error(anonymous.get("/settlement/testing"), 401, "SETTLE-02")
    response = post(anonymous, "/settlement/create/", structure_body())
    assert_error(response, 401, "SETTLE-02")
    assert response["WWW-Authenticate"] == "Bearer"
    bad_token = Client(HTTP_AUTHORIZATION="Bearer bo_not-a-token")
    assert_error(bad_token.get("/settlement/testing"), 401, "SETTLE-02")


def test_session_user_without_back_office_group_gets_403(make_user):
    make_user("operator", groups=["operators"])
    client = Client()
    assert client.login(username="operator", password="pw-operator-123")
    assert_error(client.get("/settlement/testing"), 403, "SETTLE-02")
    assert_error(post(client, "/settlement/create/", structure_body()), 403, "SETTLE-02")


def test_session_user_in_back_office_may_use_the_api(make_user):
    make_user("clerk", groups=["back-office"])
    client = Client()
    assert client.login(username="clerk", password="pw-clerk-123")
    output = post(client, "/settlement/create/", structure_body()).json()["output"]
    assert output["lastUpdate"]["user"] == "clerk"
    assert client.get("/settlement/testing").status_code == 200


def test_session_post_without_csrf_token_is_403(make_user):
    make_user("clerk", groups=["back-office"])
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="clerk", password="pw-clerk-123")
    assert_error(post(client, "/settlement/create/", structure_body()), 403, "SETTLE-02", "CSRF")


@pytest.mark.django_db(transaction=True)
def test_database_down_is_settle_00_503(api):
    post(api, "/settlement/create/", structure_body())
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    connection.close()
    # A port nothing listens on: the real connection attempt fails, as when PostgreSQL is down.
    connection.settings_dict.update(HOST="127.0.0.1", PORT="9")
    try:
        assert_error(api.get("/settlement/testing"), 503, "SETTLE-00")
        assert_error(post(api, "/settlement/testing/update", SAMPLES["update"]), 503, "SETTLE-00")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert api.get("/settlement/testing").status_code == 200


def test_error_messages_never_carry_a_stack_trace(testing):
    response = testing.post("/settlement/testing/update", data=b"\xff\xfe{", content_type="application/json")
    message = assert_error(response, 400, "SETTLE-01")
    assert "Traceback" not in message
    assert json.loads(response.content)  # a JSON envelope, not Django's HTML page


def test_text_postgresql_cannot_store_is_refused_not_a_500(testing):
    assert_error(testing.get("/settlement/a%00b"), 404, "SETTLE-02")
    assert_error(post(testing, "/settlement/a%00b/settle"), 404, "SETTLE-02")
    assert_error(post(testing, "/settlement/create/", structure_body("nul\x00")), 400, "SETTLE-01")
    sample = {"app": "x", "op": "y", "note": "\x00"}
    assert_error(post(testing, "/settlement/create/", structure_body("n2", record=sample)), 400, "SETTLE-01")
    body = b'{"record": {"app": "\\ud800", "op": "X"}}'
    response = testing.post("/settlement/testing/update", data=body, content_type="application/json")
    assert_error(response, 400, "SETTLE-01", "record[0] (1st)")
    too_long = {"record": {"app": "é" * 501, "op": "X"}}
    assert_error(post(testing, "/settlement/testing/update", too_long), 400, "SETTLE-01", "1000 bytes")


def test_a_sample_record_with_json_numbers_is_kept(api):
    body = b'{"settleid": "num", "aggregates": ["op"], "primaryKey": "app", "aggregationType": "1CDR",'
    body += b' "settlementType": "none", "record": {"app": 1, "op": 0.1}}'
    assert api.post("/settlement/create/", data=body, content_type="application/json").status_code == 200
