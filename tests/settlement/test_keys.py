"""Key canonicalisation: a JSON number key and its string spelling are one key."""

from decimal import Decimal

import pytest

from settlement.records import canonical_number, canonical_text
from tests.settlement.conftest import structure_body
from tests.settlement.test_errors import assert_error


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("5", "5"),
        ("5.0", "5"),
        ("5e0", "5"),
        ("50E-1", "5"),
        ("-0.0", "0"),
        ("1.5E+3", "1500"),
        ("1e3", "1000"),
        ("1e-7", "0.0000001"),
        ("12.340000", "12.34"),
        # Long decimals keep every significant digit: JSON numbers are read as decimals, never floats.
        ("0.1000000000000000000000000000000000000001", "0.1000000000000000000000000000000000000001"),
        ("123456789012345678901234567890.5", "123456789012345678901234567890.5"),
    ],
)
def test_number_spellings(number, text):
    assert canonical_number(Decimal(number)) == text


def test_numbers_beyond_the_key_length_are_refused():
    assert canonical_number(Decimal("1e1001")) is None
    assert canonical_number(Decimal("1e-1001")) is None
    assert canonical_text(Decimal("1e999")) == "1" + "0" * 999  # 1,000 digits: the longest key
    assert canonical_text(Decimal("1e1000")) is None
    assert canonical_text(True) is None and canonical_text(None) is None


def test_strings_are_kept_as_sent():
    assert canonical_text("5.0") == "5.0"
    assert canonical_text("007") == "007"


def test_number_and_string_keys_aggregate_together(api):
    api.post("/settlement/create/", structure_body(), content_type="application/json")
    body = b'{"record": [{"app": 5, "op": "x"}, {"app": "5", "op": "x"}, {"app": 5.0, "op": "x"},'
    body += b' {"app": 5e0, "op": "x"}, {"app": "5.0", "op": "x"}, {"app": 1.5E+3, "op": "x"}]}'
    response = api.post("/settlement/testing/update", data=body, content_type="application/json")
    assert response.json()["output"]["aggregates"] == {
        "5": {"op": "4"},
        "5.0": {"op": "1"},
        "1500": {"op": "1"},
    }


def test_a_number_key_too_long_to_write_out_is_refused(api):
    api.post("/settlement/create/", structure_body(), content_type="application/json")
    body = b'{"record": [{"app": 1e5000, "op": "x"}]}'
    response = api.post("/settlement/testing/update", data=body, content_type="application/json")
    assert_error(response, 400, "SETTLE-01", "record[0] (1st)", "primary key")
