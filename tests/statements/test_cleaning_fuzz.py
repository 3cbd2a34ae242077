"""Property tests of the cleaning parser: it never raises and accounts for every line."""

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statements.cleaners.base import CLEAN_COLUMNS, Problem
from tests.statements.test_cleaning import parse_bytes

COLUMNS = ("period", "dsp", "artist", "isrc", "upc", "title", "territory", "units", "revenue", "currency")
PLAUSIBLE = {
    "period": st.sampled_from(["2026-09", "202609", "2026/9", "13-2026", "2026-13", ""]),
    "dsp": st.sampled_from(["Spotify", " Deezer ", "", "=cmd()"]),
    "artist": st.sampled_from(["Aurora Lane", "Beyoncé", "", "x" * 501]),
    "isrc": st.sampled_from(["GBAYE2600001", "gb-aye-26-00001", "BAD", ""]),
    "upc": st.sampled_from(["5056789012345", "1.23E+11", ""]),
    "title": st.sampled_from(["Song", "Café", ""]),
    "territory": st.sampled_from(["IT", "us", "Worldwide", "ITA", ""]),
    "units": st.sampled_from(["1", "-3", "1.0", "1,5", "x", ""]),
    "revenue": st.sampled_from(["0.5", "-0.0001", "1,25", "1.234,5", "1e3", "NaN", "abc", ""]),
    "currency": st.sampled_from(["EUR", "usd", "EURO", ""]),
}
# Field text without separators, quotes or line breaks keeps one record per physical line.
SAFE_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters=',;\t"\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'
    ),
    max_size=12,
)
field_value = st.one_of(*(PLAUSIBLE.values()), SAFE_TEXT)
line = st.lists(field_value, min_size=0, max_size=12)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_every_line_accounted_for(lines: list[list[str]], separator: str) -> None:
    body = "\n".join(separator.join(values) for values in [list(COLUMNS), *lines]) + "\n"
    file_format, rows, problems, stats = parse_bytes(body.encode())
    assert file_format == "generic_csv"
    numbers = [r[0] for r in rows] + [p.line for p in problems]
    # Every line is the header, a row, a rejected line or a structural one (blank, totals).
    assert len(numbers) == len(set(numbers)) and all(2 <= n <= len(lines) + 1 for n in numbers)
    assert len(numbers) + stats.structural == stats.lines == len(lines) + 1
    assert not any(p.fatal for p in problems)
    _check_rows_are_normalised(rows)


def _check_rows_are_normalised(rows: list[tuple]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    # One normalised record per physical line: the COPY prefixing relies on it.
    assert len(out.getvalue().splitlines()) == len(rows)
    for row in rows:
        record = dict(zip(CLEAN_COLUMNS, row, strict=True))
        assert len(record["period"]) == 7 and record["period"][4] == "-"
        assert len(record["territory"]) == 2 and len(record["currency"]) == 3
        # An empty artist stays empty: a line keeps its money without that metadata.
        assert record["dsp"]
        int(record["units"])


@FUZZ
@given(lines=st.lists(line, max_size=15), separator=st.sampled_from([",", ";", "\t"]))
def test_parser_accounts_for_every_line(lines, separator):
    _check_every_line_accounted_for(lines, separator)


@FUZZ
@given(data=st.binary(max_size=400))
def test_parser_never_raises_on_arbitrary_bytes_after_a_header(data):
    _, rows, problems, stats = parse_bytes(b"period;dsp;artist;territory;units;revenue;currency\n" + data)
    numbers = [r[0] for r in rows] + [p.line for p in problems]
    assert len(numbers) == len(set(numbers))
    assert all(2 <= n <= stats.lines for n in numbers)
    _check_rows_are_normalised(rows)


@FUZZ
@given(data=st.binary(max_size=400))
def test_parser_never_raises_on_arbitrary_files(data):
    _, _, problems, _ = parse_bytes(data)
    assert all(isinstance(p, Problem) for p in problems)


@FUZZ
@given(records=st.lists(st.lists(SAFE_TEXT, min_size=1, max_size=10), max_size=10))
def test_dsr_parser_never_raises_and_accounts_for_every_line(records):
    lines = ["HEAD\t3\tBasicAudioProfile\t1\tM\tT\t1\t1\t2026-09-01\t2026-09-30\tP\tTidal"]
    kinds = ["SY02", "AS02", "RU01", "SU02", "LI01", "XX01", ""]
    lines += ["\t".join([kinds[i % len(kinds)], *r]) for i, r in enumerate(records)]
    lines.append(f"FOOT\t{len(lines) + 1}")
    _, rows, problems, stats = parse_bytes(("\n".join(lines) + "\n").encode())
    assert stats.structural + len(rows) + len([p for p in problems if not p.fatal]) == stats.lines
    _check_rows_are_normalised(rows)


@pytest.mark.slow
@FUZZ_SLOW
@given(lines=st.lists(line, max_size=30), separator=st.sampled_from([",", ";", "\t"]))
def test_parser_accounts_for_every_line_thoroughly(lines, separator):
    _check_every_line_accounted_for(lines, separator)


@pytest.mark.slow
@FUZZ_SLOW
@given(data=st.binary(max_size=2000))
def test_parser_never_raises_on_arbitrary_bytes_thoroughly(data):
    _, rows, _, _ = parse_bytes(b"period,dsp,artist,territory,units,revenue,currency\n" + data)
    _check_rows_are_normalised(rows)
