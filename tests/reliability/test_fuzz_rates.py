"""Fuzz of the exchange-rate inputs (currency CSV and JSON): parsers never raise, the API never 500s,
and a refused set changes nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statements.models import StatementRun
from statements.rates import parse_exceptions, parse_rates

CSV_ALPHABET = st.sampled_from(list("EURUSDGBP0123456789-.,;\"' \t\r\nabcxyz\x00\u00e9\ufeff|="))
csv_texts = st.one_of(
    st.text(CSV_ALPHABET, max_size=300),
    st.lists(
        st.tuples(
            st.sampled_from(["EUR", "USD", "usd", "XX", "", "GBP "]),
            st.sampled_from(["2026-09", "2026-13", "26-09", "", "2026-9"]),
            st.sampled_from(["0.934210", "1,5", "-1", "0", "NaN", "1e400", "abc", "", "0.12345678901"]),
        ),
        max_size=8,
    ).map(lambda rows: "currency,period,rate\n" + "\n".join(",".join(row) for row in rows)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
json_items = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "currency": json_values | st.sampled_from(["USD", "GBP"]),
            "period": json_values | st.just("2026-09"),
            "rate": json_values | st.sampled_from(["0.9", "1.1"]),
            "dsp": json_values | st.just("Spotify"),
            "salesfile": json_values | st.just(1),
        },
    )
    | json_values,
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(csv_texts, json_items))
def test_rate_parsers_never_raise_and_explain_every_refusal(data):
    for parse in (parse_rates, parse_exceptions):
        items, problems = parse(data)
        assert all(isinstance(problem, str) and problem for problem in problems)
        assert all(item["rate"] > 0 for item in items)


@settings(max_examples=3000, deadline=None)
@given(data=st.one_of(csv_texts, json_items))
@pytest.mark.slow
def test_rate_parsers_never_raise_thoroughly(data):
    for parse in (parse_rates, parse_exceptions):
        parse(data)


@pytest.fixture
def client(api_client):
    return api_client()


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(csv_texts, json_items), exceptions=st.booleans())
def test_rate_endpoints_never_answer_5xx_and_refusals_change_nothing(client, data, exceptions):
    run = client.post("/api/statement_run/", {"name": "fuzz"}, content_type="application/json").json()
    path = f"/api/statement_run/{run['id']}/{'currencies_exception' if exceptions else 'currencies'}/"
    before = client.get(f"/api/statement_run/{run['id']}/").json()
    if isinstance(data, str):
        response = client.post(path, data.encode("utf-8", "surrogatepass"), content_type="text/csv")
    else:
        response = client.post(path, json.dumps(data), content_type="application/json")
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert client.get(f"/api/statement_run/{run['id']}/").json() == before
    StatementRun.objects.filter(pk=run["id"]).delete()
