"""The public healthcheck and the refusal of an empty settle."""

import pytest
from django.db import connections
from django.test import Client

from settlement.models import HistoryEntry, Settlement
from tests.settlement.conftest import SAMPLES, post, structure_body
from tests.settlement.test_errors import assert_error


def test_healthcheck_answers_ok_without_authentication(db):
    response = Client().get("/settlement/healthcheck")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert Client().get("/settlement/healthcheck/").status_code == 200
    assert_error(Client().post("/settlement/healthcheck"), 405, "SETTLE-02")


@pytest.mark.django_db(transaction=True)
def test_healthcheck_is_settle_00_503_when_the_database_is_down():
    default = connections["default"]
    saved = dict(default.settings_dict)
    default.close()
    default.settings_dict.update(HOST="127.0.0.1", PORT="9")
    try:
        assert_error(Client().get("/settlement/healthcheck"), 503, "SETTLE-00")
    finally:
        default.close()
        default.settings_dict.clear()
        default.settings_dict.update(saved)
    assert Client().get("/settlement/healthcheck").status_code == 200


def test_an_empty_settle_is_settle_02_409_and_records_nothing(api):
    post(api, "/settlement/create/", structure_body())
    assert_error(post(api, "/settlement/testing/settle"), 409, "SETTLE-02", "nothing to settle")
    post(api, "/settlement/testing/update", SAMPLES["update"])
    assert post(api, "/settlement/testing/settle").status_code == 200
    assert_error(post(api, "/settlement/testing/settle"), 409, "SETTLE-02", "nothing to settle")
    assert Settlement.objects.count() == 1
    assert list(HistoryEntry.objects.order_by("seq").values_list("operation", flat=True)) == [
        "Create",
        "Update",
        "Settle",
    ]
