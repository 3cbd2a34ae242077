"""The cleaning parsers: format detection, generic CSV/TSV variants and DDEX DSR files."""

import pytest

from statements.cleaning import DDEX_DSR, GENERIC_CSV, Problem, parse_bytes
from tests.statements.conftest import fixture_bytes

HEADER = b"period,dsp,artist,isrc,upc,title,territory,units,revenue,currency\n"


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
    assert [r[0] for r in rows] == [2, 12]
    assert problems == [
        Problem(3, "period '2026-13' is not a month (YYYY-MM)"),
        Problem(4, "artist is empty"),
        Problem(5, "ISRC 'NOT-AN-ISRC' is not a valid ISRC"),
        Problem(6, "empty line"),
        Problem(7, "territory 'Norway' is not an ISO 3166 two-letter code"),
        Problem(8, "units 'many' is not a whole number"),
        Problem(9, "revenue 'n/a' is not a number"),
        Problem(10, "expected at least 10 fields, found 3"),
        Problem(11, "period 'Total' is not a month (YYYY-MM)"),
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
        ("0.00000000000000001", "revenue '0.00000000000000001' has more than 16 decimal places"),
        ("1_000", "revenue '1_000' is not a number"),
    ],
)
def test_revenue_must_fit_the_column_exactly(revenue, reason):
    _, rows, problems = rows_of(HEADER + f"2026-09,S,A,,,,IT,1,{revenue},EUR\n".encode())
    assert rows == [] and problems == [Problem(2, reason)]


def test_thousands_separators_are_read_per_separator():
    _, rows, _ = rows_of(HEADER + b'2026-09,S,A,,,,IT,"1,200","1,234.50",EUR\n')
    assert rows[0][8:10] == ("1200", "1234.50")


def test_dsr_usage_lines_carry_block_release_summary_and_summed_revenue():
    file_format, rows, problems, stats = parse_bytes(fixture_bytes("youtube_2026-09.dsr.tsv"))
    assert file_format == DDEX_DSR and problems == []
    assert rows == [
        (
            6,
            "2026-09",
            "YouTube Music",
            "Aurora Lane",
            "GBAYE2600001",
            "5056789012345",
            "Northern Lights",
            "GB",
            "4200",
            "9.870000",
            "GBP",
            "stream",
            "",
            "",
            "",
        ),
        (
            8,
            "2026-09",
            "YouTube Music",
            "Aurora Lane",
            "GBAYE2600001",
            "5056789012345",
            "Northern Lights",
            "US",
            "9000",
            "15.200000",
            "USD",
            "stream",
            "",
            "",
            "",
        ),
        (
            13,
            "2026-09",
            "YouTube Music",
            "The Quiet Hours",
            "USQH12600010",
            "0602445566778",
            "Slow Tide",
            "US",
            "3000",
            "6.400000",
            "USD",
            "stream",
            "",
            "",
            "",
        ),
    ]
    # Every line is a sales line, a structural record or a rejected line.
    assert stats.structural + len(rows) + len(problems) == stats.lines == 15


def dsr(*records: str) -> bytes:
    lines = [
        "HEAD\tdsrf/3.0\tBasicAudioProfile\t1.2\tM1\t2026-10-01T00:00:00Z\t1\t1\t2026-09-01\t2026-09-30\tP\tTidal\tTidal HiFi",
        "SY02\tS1\tStreaming\t\tSubscriptionModel\tOnDemandStream\tNO\tTidal\t10\t5\tNOK\t1.00",
        *records,
    ]
    lines.append(f"FOOT\t{len(lines) + 1}")
    return ("\n".join(lines) + "\n").encode()


def test_dsr_usage_without_revenue_and_orphan_revenue_are_rejected():
    data = dsr(
        "AS02\tB1\tR1\tD1\tNOAAA2600001\tSong\t\tArtist",
        "SU02\tB1\tS1\tT1\tD1\tOnDemandStream\tSubscriptionModel\t\t10",
        "LI01\tB1\tT9\tLabel\tRight\tNOK\t1.00",
    )
    _, rows, problems, _ = parse_bytes(data)
    assert rows == []
    assert problems == [
        Problem(5, "revenue record for an unknown usage 'T9'"),
        Problem(4, "usage 'T1' has no LI revenue record"),
    ]


def test_dsr_footer_count_mismatch_is_fatal():
    data = dsr("AS02\tB1\tR1\tD1\tNOAAA2600001\tSong\t\tArtist").replace(b"FOOT\t4", b"FOOT\t40")
    _, _, problems, _ = parse_bytes(data)
    assert problems[-1].fatal and "FOOT declares 40 lines but the file has 4" in problems[-1].reason


def test_unknown_format_is_a_single_fatal_problem():
    file_format, rows, problems, _ = parse_bytes(b"hello world\nfoo\n")
    assert file_format is None and rows == []
    assert len(problems) == 1 and problems[0].fatal and problems[0].reason.startswith("unknown format")
