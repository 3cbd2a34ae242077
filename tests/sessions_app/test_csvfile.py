import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sessions_app.csvfile import csv_file_name, csv_writer, write_header, write_rows

FIELDS = ["invoice_number", "customer_name", "address", "weight_kg", "parcels", "value"]


def render(rows, *, separator=";") -> str:
    handle = io.StringIO(newline="")
    writer = csv_writer(handle, separator=separator)
    write_header(writer, FIELDS)
    write_rows(writer, rows, FIELDS)
    return handle.getvalue()


def test_file_name_has_prefix_day_and_session_id():
    assert (
        csv_file_name(prefix="shipments", day=date(2026, 11, 23), session_id=42)
        == "shipments_20261123_42.csv"
    )


def test_header_then_one_crlf_line_per_row_separated_by_semicolons():
    text = render(
        [
            {
                "invoice_number": "600000001",
                "customer_name": "Ada",
                "address": "Via Roma 1",
                "weight_kg": Decimal("1.250"),
                "parcels": 2,
                "value": Decimal("12.50"),
            }
        ]
    )
    assert text == (
        "invoice_number;customer_name;address;weight_kg;parcels;value\r\n"
        "600000001;Ada;Via Roma 1;1.250;2;12.50\r\n"
    )


def test_separators_quotes_and_newlines_inside_values_are_quoted_per_rfc_4180():
    row = {
        "invoice_number": "600000001",
        "customer_name": 'Rossi; "Bianchi"',
        "address": "Via Roma 1\nScala B",
        "weight_kg": None,
        "parcels": None,
        "value": Decimal("1E+1"),
    }
    text = render([row])
    assert '"Rossi; ""Bianchi"""' in text
    assert '"Via Roma 1\nScala B"' in text
    [_header, parsed] = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert parsed == ["600000001", 'Rossi; "Bianchi"', "Via Roma 1\nScala B", "", "", "10"]


def test_configured_separator_is_used():
    text = render([{"invoice_number": "600000001", "value": Decimal("3.99")}], separator="|")
    assert text.splitlines()[1] == "600000001|||||3.99"


def test_non_ascii_text_survives_as_utf8():
    text = render([{"invoice_number": "600000001", "customer_name": "Società Perù", "value": Decimal(1)}])
    assert "Società Perù".encode() in text.encode("utf-8")


@given(
    st.lists(
        st.fixed_dictionaries(
            {name: st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"]))) for name in FIELDS}
        ),
        max_size=5,
    ),
    st.sampled_from([";", ",", "|", "\t"]),
)
@settings(max_examples=200)
def test_any_text_round_trips_through_a_csv_reader(rows, separator):
    text = render(rows, separator=separator)
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    assert parsed[0] == FIELDS
    assert parsed[1:] == [[row[name] or "" for name in FIELDS] for row in rows]
