"""Property tests of the DSR reader: it never raises, every line is accounted for once, and the rows
it gives are ready for COPY whatever the records hold."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statements.cleaners.base import CLEAN_COLUMNS, SALE_TYPES, Problem, Stats
from statements.cleaners.dsr import parse_dsr

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "statements" / "dsr"
# Real and written sample files, mutated cell by cell: most lines stay valid, so the row path runs.
TEMPLATES = [path.read_text(encoding="utf-8").splitlines() for path in sorted(SAMPLES.glob("*.tsv"))]

HEAD = (
    "HEAD\tdsrf/3.0\tBasicAudioProfile\t1.2\tM\t2026-10-01T00:00:00Z\t1\t1\t2026-09-01\t2026-09-30\tP\tTidal"
)
KINDS = [
    "SY02.02",
    "SY01",
    "SY05.03",
    "RE01",
    "RE02",
    "AS01.01",
    "AS02",
    "AS03.01",
    "MW01",
    "RU01",
    "SU01",
    "SU02",
    "SU03.01",
    "SU04.01",
    "SU05",
    "LI01.01",
    "FOOT",
    "HEAD",
    "XX01",
    "",
]
NAMES = [
    "BlockId",
    "SummaryRecordId",
    "SalesTransactionId",
    "TransactedRelease",
    "TransactedResource",
    "ResourceReference",
    "ReleaseReference",
    "UsedResources",
    "NumberOfStreams",
    "Usages",
    "Returns",
    "NetRevenue",
    "AllocatedNetRevenue",
    "AllocatedUsages",
    "Territory",
    "Currency",
    "ISRC",
    "ICPN",
    "Title",
    "DisplayArtistName",
    "UseType",
    "CommercialModel",
    "Other",
]
VALUES = st.sampled_from(
    [
        "B1",
        "B2",
        "S1",
        "S2",
        "R1",
        "REL1",
        "T1",
        "1",
        "3",
        "-2",
        "0",
        "1.5",
        "10.00",
        "1e3",
        "NaN",
        "99999999999999999999",
        "0.00000000000000001",
        "NO",
        "SWE",
        "Worldwide",
        "EUR",
        "EURO",
        "GBAYE2600001",
        "ISRC::GBAYE2600001",
        "BAD",
        "5056789012345",
        "Song \\| Title",
        "A|B",
        "OnDemandStream",
        "PermanentDownload",
        "SubscriptionModel",
        "true",
        "",
    ]
)
SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\r\n"), max_size=12
)
CELL = st.one_of(VALUES, SAFE_TEXT)
RECORD = st.tuples(st.sampled_from(KINDS), st.lists(CELL, max_size=14)).map(
    lambda r: "\t".join([r[0], *r[1]])
)
HEADING = st.tuples(st.sampled_from(KINDS), st.lists(st.sampled_from(NAMES), max_size=12)).map(
    lambda r: "\t".join([f"#{r[0]}", *r[1]])
)
LINE = st.one_of(RECORD, RECORD, RECORD, HEADING, st.just("# comment"), st.just(""), SAFE_TEXT)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(lines: list[str]) -> tuple[list[tuple], list[Problem], Stats]:
    stats = Stats()
    rows, problems = [], []
    for item in parse_dsr(iter(lines), stats):
        (problems if isinstance(item, Problem) else rows).append(item)
    return rows, problems, stats


def check(lines: list[str]) -> None:
    rows, problems, stats = run(lines)
    assert not any(p.reason.startswith("unreadable DSR file") for p in problems), problems
    fatal = [p for p in problems if p.fatal]
    assert len(fatal) <= 1 and (not fatal or problems[-1] is fatal[0])
    numbers = [row[0] for row in rows] + [p.line for p in problems if not p.fatal]
    assert len(numbers) == len(set(numbers))
    assert all(1 <= n <= stats.lines for n in numbers)
    if not fatal:
        assert stats.structural + len(numbers) == stats.lines == len(lines)
    json.dumps(stats.declared)
    assert all(isinstance(w, str) for w in stats.warnings)
    check_rows(rows)


def check_rows(rows: list[tuple]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    # One normalised record per physical line: the COPY prefixing relies on it.
    assert len(out.getvalue().splitlines()) == len(rows)
    for row in rows:
        record = dict(zip(CLEAN_COLUMNS, row, strict=True))
        assert len(record["period"]) == 7 and record["period"][4] == "-"
        assert len(record["territory"]) == 2 and len(record["currency"]) == 3
        # A missing artist stays empty (metadata never rejects a line with money).
        assert record["dsp"]
        assert record["sale_type"] in SALE_TYPES
        int(record["units"])
        revenue = Decimal(record["revenue"])
        # Every digit the file has is kept (no decimal cap); the magnitude still fits a money column.
        assert revenue.is_finite() and abs(revenue) < 10**14
        assert "E" not in record["revenue"]


@FUZZ
@given(body=st.lists(LINE, max_size=25), footer=st.booleans())
def test_dsr_reader_never_raises_and_accounts_for_every_line(body, footer):
    lines = [HEAD, *body]
    if footer:
        lines.append(f"FOOT\t{len(lines) + 1}\t{len(lines) + 1}\t1\t1\t1")
    check([line + "\n" for line in lines])


@FUZZ
@given(text=st.text(max_size=400))
def test_dsr_reader_never_raises_on_arbitrary_text(text):
    check(text.splitlines(keepends=True))
    check([HEAD + "\n", *text.splitlines(keepends=True)])


MUTATION = st.tuples(st.integers(0, 40), st.integers(0, 25), CELL)


def mutated(template: list[str], mutations: list[tuple[int, int, str]], drop: int | None) -> list[str]:
    lines = [line.split("\t") for line in template]
    for row, column, value in mutations:
        cells = lines[row % len(lines)]
        cells[column % len(cells)] = value
    text = ["\t".join(cells) + "\n" for cells in lines]
    if drop is not None:
        del text[drop % len(text)]
    return text


@FUZZ
@given(
    template=st.sampled_from(TEMPLATES),
    mutations=st.lists(MUTATION, max_size=6),
    drop=st.none() | st.integers(0, 40),
)
def test_dsr_reader_on_mutated_sample_files(template, mutations, drop):
    check(mutated(template, mutations, drop))


def test_unmutated_sample_files_give_rows():
    assert all(run([line + "\n" for line in template])[0] for template in TEMPLATES)


@pytest.mark.slow
@FUZZ_SLOW
@given(body=st.lists(LINE, max_size=60), footer=st.booleans())
def test_dsr_reader_never_raises_thoroughly(body, footer):
    lines = [HEAD, *body]
    if footer:
        lines.append(f"FOOT\t{len(lines) + 1}\t{len(lines) + 1}\t1\t1\t1")
    check([line + "\r\n" for line in lines])


@pytest.mark.slow
@FUZZ_SLOW
@given(
    template=st.sampled_from(TEMPLATES),
    mutations=st.lists(MUTATION, max_size=12),
    drop=st.none() | st.integers(0, 40),
)
def test_dsr_reader_on_mutated_sample_files_thoroughly(template, mutations, drop):
    check(mutated(template, mutations, drop))
