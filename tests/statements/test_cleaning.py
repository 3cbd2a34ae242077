"""The cleaning parsers: format detection, generic CSV/TSV variants and DDEX DSR files."""

import io

import pytest

from statements.cleaners import DDEX_DSR, parse
from statements.cleaners.base import Problem
from statements.cleaners.profiles import builtin_profiles
from tests.statements.conftest import fixture_bytes

HEADER = b"period,dsp,artist,isrc,upc,title,territory,units,revenue,currency\n"


GENERIC_CSV = "generic_csv"


def parse_bytes(data: bytes, **options):
    """Whole-file convenience over `parse` with the built-in profiles."""
    file_format, results, stats = parse(io.BytesIO(data), profiles=builtin_profiles(), **options)
    rows, problems = [], []
    for item in results:
        (problems if isinstance(item, Problem) else rows).append(item)
    return file_format, rows, problems, stats


def rows_of(data: bytes):
    file_format, rows, problems, _ = parse_bytes(data)
    return file_format, rows, problems


def test_comma_csv_with_aliases_and_quotes():
    file_format, rows, problems = rows_of(fixture_bytes("spotify_2026-09.csv"))
    assert file_format == GENERIC_CSV and problems == []
    assert rows[2] == (
        4,
        "2026-09",
        "Spotify",
        "Aurora Lane",
        "GBAYE2600002",
        "5056789012345",
        "Harbour, at Dawn",
        "US",
        "800",
        "2.560000",
        "USD",
        "other",
        "",
        "",
        "",
    )
    assert rows[5][6] == 'Paper "Moons"' and rows[5][8:10] == ("-10", "-0.032000")


def test_semicolon_csv_with_bom_decimal_comma_and_compact_periods():
    file_format, rows, problems = rows_of(fixture_bytes("deezer_2026-09_semicolon.csv"))
    assert file_format == GENERIC_CSV and problems == []
    assert [(r[1], r[4], r[9]) for r in rows] == [
        ("2026-09", "GBAYE2600001", "1204.5012"),
        ("2026-09", "GBAYE2600002", "0.1599"),
        ("2026-09", "USQH12600010", "0.029250"),
        ("2026-09", "USQH12600010", "0.05"),
    ]


def test_tab_separated_with_other_aliases():
    file_format, rows, problems = rows_of(fixture_bytes("applemusic_2026-10.tsv"))
    assert file_format == GENERIC_CSV and problems == []
    assert [(r[2], r[7], r[8], r[9], r[10]) for r in rows] == [
        ("Apple Music", "JP", "640", "412.0000", "JPY"),
        ("Apple Music", "US", "900", "6.3000", "USD"),
        ("Apple Music", "GB", "300", "1.8750", "GBP"),
    ]


def test_header_is_case_insensitive_and_columns_may_come_in_any_order():
    data = b"CURRENCY;Revenue;Units;Country;Artist;Store;Period\nusd;1,5;3;us;A;S;2026/9\n"
    _, rows, problems = rows_of(data)
    assert problems == []
    assert rows == [(2, "2026-09", "S", "A", "", "", "", "US", "3", "1.5", "USD", "other", "", "", "")]


def test_invalid_lines_are_rejected_with_line_numbers():
    _, rows, problems = rows_of(fixture_bytes("with_errors.csv"))
    # Line 6 is empty and line 11 a totals row: structural, never sales; "Norway" is NO. A line
    # without an artist or with a malformed ISRC keeps its money, without them.
    assert [r[0] for r in rows] == [2, 4, 5, 7, 12] and rows[3][7] == "NO"
    assert (rows[1][3], rows[2][4]) == ("", "")
    assert problems == [
        Problem(3, "period '2026-13' is not a month or a date"),
        Problem(8, "units 'many' is not a whole number"),
        Problem(9, "revenue 'n/a' is not a number"),
        Problem(10, "expected at least 10 fields, found 3"),
    ]


def test_quoted_field_over_two_lines_is_one_record_numbered_by_its_first_line():
    data = HEADER + b'2026-09,S,A,,,"two\nlines",IT,1,1,EUR\n2026-09,S,B,,,,IT,1,1,EUR\n'
    _, rows, _ = rows_of(data)
    assert [(r[0], r[3], r[6]) for r in rows] == [(2, "A", "two lines"), (4, "B", "")]


def test_windows_1252_lines_are_decoded():
    data = HEADER + "2026-09,Deezer,Beyoncé,,,Café,FR,1,0.5,EUR\n".encode("cp1252")
    _, rows, problems = rows_of(data)
    assert problems == [] and rows[0][3] == "Beyoncé" and rows[0][6] == "Café"


@pytest.mark.parametrize(
    ("revenue", "reason"),
    [
        ("NaN", "revenue 'NaN' is out of range"),
        ("1e400", "revenue '1e400' is out of range"),
        ("1_000", "revenue '1_000' is not a number"),
    ],
)
def test_revenue_must_fit_the_column_exactly(revenue, reason):
    _, rows, problems = rows_of(HEADER + f"2026-09,S,A,,,,IT,1,{revenue},EUR\n".encode())
    assert rows == [] and problems == [Problem(2, reason)]


@pytest.mark.parametrize(
    ("revenue", "kept"),
    [
        ("0.000004728602417533660881608229722", "0.000004728602417533660881608229722"),
        ("3.27362068463E-05", "0.0000327362068463"),
        (".021330", "0.021330"),
    ],
)
def test_revenue_keeps_every_digit_without_an_exponent(revenue, kept):
    _, rows, problems = rows_of(HEADER + f"2026-09,S,A,,,,IT,1,{revenue},EUR\n".encode())
    assert problems == [] and rows[0][9] == kept


def test_thousands_separators_are_read_per_separator():
    _, rows, _ = rows_of(HEADER + b'2026-09,S,A,,,,IT,"1,200","1,234.50",EUR\n')
    assert rows[0][8:10] == ("1200", "1234.50")


def test_unknown_format_is_a_single_fatal_problem():
    file_format, rows, problems, _ = parse_bytes(b"hello world\nfoo\n")
    assert file_format is None and rows == []
    assert len(problems) == 1 and problems[0].fatal and problems[0].reason.startswith("unknown format")


TIDAL_DSR = "dsr/DSR_PADPIDA2026010101X_PADPIDA2014120301U_TidalHiFi_2026-09_WW_1of1_20261005T081200.tsv"


def test_dsr_files_are_recognised_by_their_head_record():
    file_format, rows, problems, stats = parse_bytes(fixture_bytes(TIDAL_DSR))
    assert file_format == DDEX_DSR and problems == [] and len(rows) == 7
    assert stats.detail == "DDEX DSR BasicAudioProfile 1.2"


TOO_LONG = b"a" * ((4 << 20) + 1) + b"\n"  # one byte over the 4 MiB a line may have


@pytest.mark.parametrize("line", [1, 4, 30])  # read to detect the format, the header, the rows
@pytest.mark.parametrize("content", ["csv", "dsr"])
def test_a_line_over_4_mib_fails_the_file_at_that_line(content, line):
    if content == "csv":
        lines = [HEADER] + [b"2026-09,Spotify,A,,,T,IT,1,0.5,EUR\n"] * 40
    else:
        lines = fixture_bytes(TIDAL_DSR).splitlines(keepends=True)
        line = min(line, len(lines) - 1)
    data = b"".join([*lines[: line - 1], TOO_LONG, *lines[line - 1 :]])
    file_format, rows, problems, stats = parse_bytes(data)
    assert problems[-1].fatal and problems[-1].line == line
    assert problems[-1].reason.endswith("a line is longer than 4 MiB: not a text sales file")
    assert all(row[0] < line for row in rows) and stats.lines == line - 1
    if line > 1:  # the lines before it tell the format
        assert file_format == (GENERIC_CSV if content == "csv" else DDEX_DSR)


def test_a_line_over_the_csv_modules_field_limit_is_no_header():
    file_format, rows, problems, _ = parse_bytes(
        b"x" * 200_000 + b"\n" + HEADER + b"2026-09,S,A,,,T,IT,1,0.5,EUR\n"
    )
    assert file_format == GENERIC_CSV and problems == [] and [row[0] for row in rows] == [3]
    file_format, rows, problems, _ = parse_bytes(b"x" * 200_000 + b"\n")
    assert file_format is None and problems[0].fatal and problems[0].reason.startswith("unknown format")


def test_a_requested_profile_skips_detection():
    file_format, rows, _, _ = parse_bytes(fixture_bytes("spotify_2026-09.csv"), profile="generic_csv")
    assert file_format == "generic_csv" and len(rows) == 6
    _, rows, problems, _ = parse_bytes(fixture_bytes("spotify_2026-09.csv"), profile="apple_music")
    assert rows == [] and problems[0].fatal
    _, rows, problems, _ = parse_bytes(fixture_bytes("spotify_2026-09.csv"), profile=DDEX_DSR)
    assert rows == [] and problems[-1].fatal
