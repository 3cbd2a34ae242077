"""The pure parser: file names, encodings, record counting and every record rule."""

from datetime import date
from decimal import Decimal

import pytest

from ingestion.parsing import (
    InvalidFileName,
    count_records,
    decode,
    is_binary,
    iter_lines,
    normalise_category,
    parse_file_name,
    parse_records,
)


def problems(content: bytes) -> list[tuple[int, str]]:
    return [(problem.line, problem.reason) for problem in parse_records(content).problems]


def test_file_name_gives_business_date_and_declared_records_plus_one():
    name = parse_file_name("Letture20261123143015123_41.txt")
    assert name.business_date == date(2026, 11, 23)
    assert name.timestamp.microsecond == 123000
    assert name.declared_records == 42


@pytest.mark.parametrize(
    "name",
    [
        "Letture20261123143015123.txt",
        "letture20261123143015123_4.txt",
        "Letture2026112314301512_4.txt",
        "Letture20261123143015123_4.csv",
        "Letture20261323143015123_4.txt",  # month 13
        "../Letture20261123143015123_4.txt",
        "Letture20261123143015123_-4.txt",
    ],
)
def test_other_names_are_invalid_and_the_message_gives_the_pattern(name):
    with pytest.raises(InvalidFileName, match="Letture<YYYYMMDDHHMMSSmmm>_<N>"):
        parse_file_name(name)


@pytest.mark.parametrize(
    ("content", "records"),
    [
        (b"a|b", 1),
        (b"a\nb", 2),
        (b"a\nb\n", 2),  # one trailing newline tolerated
        (b"a\nb\n\n", 3),  # a second one is a (blank) record
        (b"a\r\nb\r\n", 2),
        (b"", 1),
    ],
)
def test_records_are_newlines_plus_one_with_one_trailing_newline_tolerated(content, records):
    text = decode(content)
    assert count_records(text) == records
    assert len(list(iter_lines(text))) == records


def test_crlf_line_endings_are_stripped():
    result = parse_records(b"600000001|1|Toys|1.00\r\n600000002|2|Books|2.00\r\n")
    assert [(row.invoice_number, row.value) for row in result.rows] == [
        ("600000001", Decimal("1.00")),
        ("600000002", Decimal("2.00")),
    ]
    assert result.problems == []


def test_utf8_with_bom_is_decoded():
    result = parse_records("\ufeff600000001|1|Café, Crème|1.00".encode())
    assert result.rows[0].invoice_number == "600000001"
    assert result.categories == {"café": "Café", "crème": "Crème"}


def test_cp1252_is_the_fallback_when_bytes_are_not_utf8():
    result = parse_records("600000001|1|Café € shop|1.00".encode("cp1252"))
    assert result.rows[0].description == "Café € shop"


def test_record_not_starting_with_6_is_ignored_not_reported():
    result = parse_records(b"500000001|1|x|1.00\nHEADER\n7|broken\n600000004|1|x|1.00")
    assert result.ignored == 3
    assert result.problems == []
    assert [row.line for row in result.rows] == [4]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("60000001|1|x|1.00", "invoice number '60000001' must be exactly 9 characters"),
        ("6000000012|1|x|1.00", "invoice number '6000000012' must be exactly 9 characters"),
        ("600000001|1.5|x|1.00", "quantity '1.5' is not an integer"),
        ("600000001||x|1.00", "quantity '' is not an integer"),
        ("600000001|1|x|1,00", "value '1,00' is not a number with a dot as decimal separator"),
        ("600000001|1|x|1e3", "value '1e3' is not a number with a dot as decimal separator"),
        ("600000001|1|x|", "value '' is not a number with a dot as decimal separator"),
        ("600000001|1|x", "expected 4 fields separated by '|', found 3"),
        ("600000001|1|x|1.00|extra", "expected 4 fields separated by '|', found 5"),
        ("600000001|99999999999|x|1.00", "quantity '99999999999' is out of range"),
        ("600000001|1|x|1000000000000", "value '1000000000000' is out of range"),
    ],
)
def test_invalid_records_are_skipped_and_reported_with_their_line(record, reason):
    result = parse_records(f"600000009|1|ok|1.00\n{record}".encode())
    assert [row.line for row in result.rows] == [1]
    assert problems(f"600000009|1|ok|1.00\n{record}".encode()) == [(2, reason)]


def test_blank_lines_are_invalid():
    assert problems(b"600000001|1|x|1.00\n\n   \n600000002|1|x|1.00") == [
        (2, "blank line"),
        (3, "blank line"),
    ]


def test_values_are_decimals_and_quantities_integers():
    rows = parse_records(b"600000001|+3|x|12.5\n600000002|-1|x|0.120\n600000003|2|x|.5\n600000004|2|x|7").rows
    assert [(row.quantity, row.value) for row in rows] == [
        (3, Decimal("12.5")),
        (-1, Decimal("0.12")),
        (2, Decimal("0.5")),
        (2, Decimal("7")),
    ]
    assert all(isinstance(row.value, Decimal) for row in rows)


def test_values_with_more_than_two_decimals_are_invalid_not_rounded():
    result = parse_records(b"600000001|1|x|1.005\n600000002|1|x|2.50\n600000003|1|x|-0.125")
    assert [row.value for row in result.rows] == [Decimal("2.50")]
    assert [(p.line, p.reason) for p in result.problems] == [
        (1, "value '1.005' has more than two decimals"),
        (3, "value '-0.125' has more than two decimals"),
    ]


def test_categories_are_normalised_keep_the_first_spelling_and_count_once_per_row():
    result = parse_records(
        b"600000001|1| Health  &  Beauty , toys,TOYS|1.00\n600000002|1|health & beauty,Garden,|2.00\n600000003|1||3.00"
    )
    assert result.categories == {"health & beauty": "Health & Beauty", "toys": "toys", "garden": "Garden"}
    first, second, third = result.rows
    assert first.categories == (1, 2)
    assert second.categories == (1, 3)
    assert third.categories == ()
    assert first.description == " Health  &  Beauty , toys,TOYS"


def test_normalised_key_collapses_whitespace_and_casefolds():
    assert normalise_category(" Health  &  Beauty") == "health & beauty"
    assert normalise_category("STRASSE\tMöbel") == normalise_category("straße möbel")


def test_an_invalid_row_adds_no_category():
    result = parse_records(("600000001|1|Toys," + "x" * 101 + "|1.00").encode())
    assert result.rows == []
    assert result.categories == {}
    assert problems(("600000001|1|Toys," + "x" * 101 + "|1.00").encode())[0][1].startswith("category 'xxx")


def test_nul_characters_make_a_record_invalid():
    assert problems(b"600000001|1|a\x00b|1.00") == [(1, "the record contains a NUL character")]


def test_binary_data_is_not_text_but_a_stray_control_character_in_a_record_is():
    import gzip
    import zipfile
    from io import BytesIO
    from pathlib import Path

    sample = next((Path(__file__).resolve().parents[2] / "fixtures" / "demo").glob("Letture*_*.txt"))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(sample, sample.name)
    assert is_binary(decode(gzip.compress(sample.read_bytes())))
    assert is_binary(decode(buffer.getvalue()))
    assert is_binary(decode("600000001|1|Toys|1.00".encode("utf-16")))
    assert not is_binary(decode(sample.read_bytes()))
    assert not is_binary(decode(sample.read_bytes().replace(b"Toys", b"To\x00ys", 1)))
    assert not is_binary(decode("600000001|1|Caffè\t€|1.00\r\n".encode("cp1252")))
    assert not is_binary("")


def test_fields_are_trimmed_but_description_is_kept_as_received():
    row = parse_records(b" 600000001 | 2 |  Toys |  3.50 ").rows[0]
    assert (row.invoice_number, row.quantity, row.description, row.value) == (
        "600000001",
        2,
        "  Toys ",
        Decimal("3.50"),
    )
