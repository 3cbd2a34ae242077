"""Property tests of the text decoding and the profile-driven parser: no input makes them raise,
every line is accounted for, and every row is normalised."""

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statements.cleaners.base import CLEAN_COLUMNS, SALE_TYPES, Problem, Stats
from statements.cleaners.delimited import parse_delimited
from statements.cleaners.profiles import builtin_profiles
from statements.cleaners.text import open_text

HEADERS = [
    b"period,dsp,artist,isrc,upc,title,territory,units,revenue,currency\n",
    b"Reporting Period,Label,Release Artists,UPC Code,ISRC Code,Track Artists,Digital Service Provider,"
    b"Activity Period,Territory,Sale or Void,Count,Royalty ($US)\n",
    b"Start Date\t06/01/2025\nCurrency\tAUD\n\nStorefront Name\tQuantity\tNet Royalty Total\tItem_Artist\n",
    b"date,item type,item name,artist,currency,quantity,net amount,country code\n",
    b"Reporting month;Sales Month;Platform;Country / Region;Artist Name;Quantity;Client Payment Currency;"
    b"Net Revenue\n",
    b"",
]
CELLS = st.one_of(
    st.sampled_from(
        [
            "2025-06",
            "JUN-25",
            "June 2025",
            "6/3/25 1:00pm",
            "Total",
            "Grand Total",
            "payout",
            "Void",
            "USA",
            "France",
            "WW",
            "xx",
            "1,200",
            "1.234,5",
            "(3.50)",
            "-0.0001",
            "NaN",
            "1e400",
            "",
            "USD",
            "eur",
            "Konte\u0301",
            "=cmd()",
            "GBAYE2600001",
            "5056789012345",
            "Balance carried forward",
        ]
    ),
    st.text(max_size=12),
)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(data: bytes, forced=None) -> tuple[list, list[Problem], Stats]:
    stats = Stats()
    results = list(
        parse_delimited(open_text(io.BytesIO(data)), stats, profiles=builtin_profiles(), forced=forced)
    )
    problems = [r for r in results if isinstance(r, Problem)]
    return [r for r in results if not isinstance(r, Problem)], problems, stats


def check(rows: list, problems: list[Problem], stats: Stats) -> None:
    fatal = [p for p in problems if p.fatal]
    assert len(fatal) <= 1 and (not fatal or problems[-1].fatal)
    numbers = [r[0] for r in rows] + [p.line for p in problems if not p.fatal]
    assert len(numbers) == len(set(numbers)) and all(1 <= n <= stats.lines for n in numbers)
    if not fatal:
        assert stats.structural + len(rows) + len(problems) <= stats.lines
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    # One normalised record per physical line: the COPY relies on it.
    assert len(out.getvalue().splitlines()) == len(rows)
    for row in rows:
        record = dict(zip(CLEAN_COLUMNS, row, strict=True))
        assert len(record["period"]) == 7 and record["period"][4] == "-"
        assert len(record["territory"]) == 2 and len(record["currency"]) == 3
        # An empty artist stays empty: a line keeps its money without that metadata.
        assert record["dsp"] and record["sale_type"] in SALE_TYPES
        int(record["units"])


def table(header: bytes, lines: list[list[str]], delimiter: str, encoding: str) -> bytes:
    body = "\n".join(delimiter.join(cells) for cells in lines) + "\n"
    return (header.decode() + body).encode(encoding, "replace")


@FUZZ
@given(
    header=st.sampled_from(HEADERS),
    lines=st.lists(st.lists(CELLS, max_size=14), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_parser_never_raises_on_plausible_reports(header, lines, delimiter):
    check(*run(table(header, lines, delimiter, "utf-8")))


@FUZZ
@given(header=st.sampled_from(HEADERS), data=st.binary(max_size=400))
def test_parser_never_raises_on_arbitrary_bytes_after_a_header(header, data):
    check(*run(header + data))


@FUZZ
@given(data=st.binary(max_size=400), forced=st.sampled_from([None, "bandcamp", "generic_csv"]))
def test_parser_never_raises_on_arbitrary_files(data, forced):
    check(*run(data, forced))


@FUZZ
@given(text=st.text(max_size=200), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_decoding_keeps_every_line(text, encoding):
    data = text.encode(encoding, "replace")
    lines = list(open_text(io.BytesIO(data)))
    assert all(line for line in lines)
    assert sum(1 for line in lines if line.endswith(("\n", "\r"))) >= len(lines) - 1


@pytest.mark.slow
@FUZZ_SLOW
@given(
    header=st.sampled_from(HEADERS),
    lines=st.lists(st.lists(CELLS, max_size=14), max_size=30),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]),
)
def test_parser_never_raises_thoroughly(header, lines, delimiter, encoding):
    data = table(header, lines, delimiter, encoding)
    check(*run(data))


@pytest.mark.slow
@FUZZ_SLOW
@given(header=st.sampled_from(HEADERS), data=st.binary(max_size=2000))
def test_parser_never_raises_on_arbitrary_bytes_thoroughly(header, data):
    check(*run(header + data))


def test_a_line_without_an_artist_keeps_its_money():
    """The case the slow fuzzing met: Apple Music's layout with an empty Item_Artist cell."""
    header = b"Start Date\t06/01/2025\nCurrency\tAUD\n\nStorefront Name\tQuantity\tNet Royalty Total\tItem_Artist\n"
    rows, problems, _ = run(header + b"IT\t1\t2.5\t\n")
    assert problems == []
    (row,) = rows
    record = dict(zip(CLEAN_COLUMNS, row, strict=True))
    assert (record["artist"], record["units"], record["revenue"], record["currency"]) == (
        "",
        "1",
        "2.5",
        "AUD",
    )
