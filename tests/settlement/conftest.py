"""Builders shared by the settlement tests."""

import json
from pathlib import Path

import pytest

SAMPLES = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "settlement" / "spec_samples.json").read_text()
)


def structure_body(settleid: str = "testing", **changes) -> dict:
    """The spec's create sample, with `changes` applied."""
    return {**SAMPLES["create"], "settleid": settleid, **changes}


def cdr_body(settleid: str = "cdr", settlement_type: str = "1CDR") -> dict:
    return {
        "settleid": settleid,
        "aggregates": ["minutes", "amount"],
        "primaryKey": "operator",
        "aggregationType": "1CDR",
        "settlementType": settlement_type,
        "record": {"operator": "TIM", "minutes": "1", "amount": "0.10"},
    }


@pytest.fixture
def client_for(api_client, make_user):
    """client_for('alice') → a Bearer-token client acting as back-office user 'alice'."""

    def make(username: str = "settler"):
        return api_client(make_user(username, groups=["back-office"]))

    return make


@pytest.fixture
def api(client_for):
    return client_for()


def post(client, path: str, body=None, **extra):
    return client.post(
        path, data=json.dumps(body) if body is not None else b"", content_type="application/json", **extra
    )
