"""Hypothesis throws arbitrary update bodies at a structure: each is applied whole or not at all.
(Every operation of the OpenAPI document is fuzzed by Schemathesis, tests/reliability.)"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.settlement.conftest import SAMPLES, cdr_body, post, structure_body

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | st.sampled_from(["0.1", "-2.5e3", "1e99", "abc", "", " 7 ", "1_000", "NaN", "['op']", "testing", "cdr"])
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(["app", "op", "corr", "operator", "minutes", "amount", "records"])
RECORD = st.dictionaries(FIELDS, SCALARS, max_size=5)
UPDATE_BODY = st.fixed_dictionaries({"record": st.lists(RECORD, max_size=6) | RECORD | JSON})


@pytest.fixture
def structures(api):
    assert post(api, "/settlement/create/", structure_body()).status_code == 200
    assert post(api, "/settlement/create/", cdr_body()).status_code == 200
    assert post(api, "/settlement/testing/update", SAMPLES["update"]).status_code == 200
    return api


common = dict(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@settings(max_examples=200, **common)
@given(body=UPDATE_BODY)
def test_update_bodies_are_applied_whole_or_not_at_all(structures, body):
    before = structures.get("/settlement/cdr").json()["output"].get("aggregates", {})
    response = post(structures, "/settlement/cdr/update", body)
    after = structures.get("/settlement/cdr").json()["output"].get("aggregates", {})
    assert response.status_code in (200, 400, 422)
    if response.status_code != 200:
        assert after == before
