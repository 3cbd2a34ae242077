"""Schemathesis (the PyPI package) against the three JSON APIs: each API's OpenAPI document, as
the live app serves it, drives generated requests — valid and invalid — to the live server on
127.0.0.1. Every answer must be no 5xx and valid against the document (status documented, JSON
where JSON is documented, body matching its schema). The default run draws a sample per API;
the slow run (`make test-all`) draws at least 1,000 per API.

Runs against whatever each app serves, so it covers an app before and after it moves onto ninja.
"""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from project.tokens import issue_api_token
from tests.exports.conftest import moneybird  # noqa: F401 (the fake Moneybird fixture)
from tests.settlement.conftest import SAMPLES, cdr_body, structure_body

pytestmark = pytest.mark.django_db(transaction=True)  # the live server's thread sees committed data

DOCUMENTS = {
    "settlement": "/settlement/openapi.json",
    "statements": "/api/statements/openapi.json",
    "exports": "/api/exports/openapi.json",
    "royalties": "/api/royalties/openapi.json",
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Ids that exist in the live app, so that part of the generated requests reach past the look-up
# (random ids mostly meet a 404); the other path parameters are still generated.
KNOWN_PATH_PARAMETERS = {"settlement": [{"settleId": "testing"}, {"settleId": "cdr"}]}
DEFAULT_EXAMPLES = 60
SLOW_EXAMPLES = 1000


@pytest.fixture
def live_app(live_server, make_user, settings, s3_storage, moneybird):  # noqa: F811 (fixture by name)
    """The live server with every outside system real (S3 on moto, the fake Moneybird) and a
    staff user's token for the three scopes (staff: the exports file writes reach their handler)."""
    settings.STATEMENTS_WEBHOOK_SECRET = "schemathesis-secret"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_user("schemathesis", groups=["back-office"], staff=True)
    _, raw = issue_api_token(user=user, scopes=[f"{scope}:write" for scope in DOCUMENTS])
    moneybird.add()
    moneybird.add("receipt")
    headers = {"Authorization": f"Bearer {raw}"}
    for path, body in [
        ("/settlement/create/", structure_body()),
        ("/settlement/create/", cdr_body()),
        ("/settlement/testing/update", SAMPLES["update"]),
    ]:
        assert requests.post(live_server.url + path, json=body, headers=headers, timeout=30).ok, path
    return live_server.url, headers


def fuzz(live_app, api: str, examples: int) -> None:
    base_url, headers = live_app
    schema = schemathesis.openapi.from_url(base_url + DOCUMENTS[api])
    cases = st.one_of(
        [
            schema.as_strategy(generation_mode=mode, path_parameters=known)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for known in [None, *KNOWN_PATH_PARAMETERS.get(api, [])]
        ]
    )

    @given(case=cases)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)

    check()


@pytest.mark.parametrize("api", DOCUMENTS)
def test_api_answers_generated_requests_as_documented(live_app, api):
    fuzz(live_app, api, DEFAULT_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("api", DOCUMENTS)
def test_api_answers_a_thousand_generated_requests_as_documented(live_app, api):
    fuzz(live_app, api, SLOW_EXAMPLES)
