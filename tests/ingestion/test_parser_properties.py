"""Property tests: the parser never raises and accounts for every record exactly once."""

from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion import parsing
from ingestion.lookup import CANDIDATE_NUMBER
from ingestion.parsing import count_records, decode, parse_records

FIELD = st.text(alphabet=st.sampled_from("60123456789.,| -aB\t\r\x00\x1c\x85\u2028é€"), max_size=14)
CLEAN = st.builds(
    "{} {}|{}|{}|{}".format,
    st.sampled_from(["", " "]),
    st.from_regex(r"6[0-9]{8}", fullmatch=True),
    st.integers(0, 10**9 - 1),
    st.sampled_from(["Toys", " Health  &  Beauty ,toys", "", "a,,A", "x" * 101]),
    st.decimals(min_value=0, max_value=10**12 - 1, places=2, allow_nan=False),
)
RECORD = st.one_of(CLEAN, st.lists(FIELD, min_size=1, max_size=5).map("|".join))
FILE_TEXT = st.lists(RECORD, max_size=30).map("\n".join)
ENCODED = st.tuples(FILE_TEXT, st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])).map(
    lambda pair: pair[0].encode(pair[1], errors="replace")
)


def check_accounts_for_every_record(content: bytes) -> None:
    result = parse_records(content)
    assert result.records == count_records(decode(content))
    assert len(result.rows) + result.ignored + len(result.problems) == result.records
    lines = sorted([row.line for row in result.rows] + [problem.line for problem in result.problems])
    assert len(set(lines)) == len(lines)
    assert all(1 <= line <= result.records for line in lines)
    # The loader looks up the numbers its regex finds; every valid row's number must be among them.
    candidates = set(CANDIDATE_NUMBER.findall(decode(content)))
    for row in result.rows:
        assert row.invoice_number.startswith("6") and len(row.invoice_number) == 9
        assert row.invoice_number in candidates
        assert all(1 <= ref <= len(result.categories) for ref in row.categories)


fast = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
thorough = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(st.binary(max_size=400))
def test_parser_never_raises_on_arbitrary_bytes(content):
    check_accounts_for_every_record(content)


@fast
@given(ENCODED)
def test_parser_accounts_for_every_record_of_plausible_files(content):
    check_accounts_for_every_record(content)


@fast
@given(ENCODED)
def test_clean_record_fast_path_gives_the_same_result_as_the_full_checks(content):
    with_fast_path = parse_records(content)
    with patch.object(parsing, "_clean_record", lambda line: None):
        full_checks = parse_records(content)
    assert with_fast_path == full_checks


@pytest.mark.slow
@thorough
@given(st.one_of(st.binary(max_size=2000), ENCODED))
def test_parser_properties_hold_for_thousands_of_inputs(content):
    check_accounts_for_every_record(content)
