"""DDEX DSR files through the whole pipeline (upload → clean → COPY into PostgreSQL): what lands in
`SalesLine` equals the totals computed from the files' own records, and the file's checks against
itself reach the sales file."""

from collections import defaultdict
from decimal import Decimal

import pytest

from statements.models import SalesLine
from tests.statements.test_dsr import (
    APPLE_SRB,
    BASIC_AUDIO_1_1,
    DEEZER,
    QOBUZ,
    SPOTIFY,
    TIDAL,
    VOD,
    YOUTUBE,
    YOUTUBE2,
    expected_totals,
    read_text,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        (TIDAL, None),
        (SPOTIFY, None),
        (DEEZER, BASIC_AUDIO_1_1),
        (VOD, None),
        (APPLE_SRB, None),
        (YOUTUBE, None),
        (YOUTUBE2, None),
        (QOBUZ.format(1), None),
        (QOBUZ.format(2), None),
    ],
)
def test_imported_lines_add_up_to_the_file(flow, name, fallback):
    text = read_text(name)
    file_id = flow.processed_file(text.encode(), name=name)
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    assert data["format"] == "ddex_dsr" and data["detail"].startswith("DDEX DSR ")
    expected = expected_totals(text, fallback)
    lines = SalesLine.objects.filter(sales_file_id=file_id)
    revenue, units = defaultdict(Decimal), 0
    for line in lines:
        revenue[line.currency] += line.revenue
        units += line.units
    assert (len(lines), units, dict(revenue)) == (expected["lines"], expected["units"], expected["revenue"])
    assert data["lines_rejected"] == 0 and data["lines_valid"] == expected["lines"]


def test_the_files_checks_reach_the_sales_file(flow):
    file_id = flow.processed_file(read_text(YOUTUBE2).encode(), name=YOUTUBE2)
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED"
    assert "FOOT declares 35 lines in the file but the file has 34" in data["warnings"]
    assert data["declared"]["lines"] == 35


def test_a_summary_share_keeps_all_sixteen_decimal_places(flow):
    file_id = flow.processed_file(read_text(TIDAL).encode(), name=TIDAL)
    shares = SalesLine.objects.filter(sales_file_id=file_id, currency="NOK").order_by("line_number")
    assert [line.revenue for line in shares] == [
        Decimal("3.3333333333333333"),
        Decimal("3.3333333333333334"),
        Decimal("3.3333333333333333"),
    ]
    assert sum(line.revenue for line in shares) == Decimal("10.00")


def test_a_rejected_usage_lines_money_is_in_the_reconciliation(flow):
    """Source = imported + rejected: the rejected usage's LI money (USD 1.15) is counted."""
    text = read_text(YOUTUBE).replace(
        "SU03.01\t2\tU1\t1\tA726198037646795\t2045", "SU03.01\t2\tU1\t1\tA726198037646795\tmany"
    )
    file_id = flow.processed_file(text.encode(), name=YOUTUBE)
    data = flow.file(file_id)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    whole = expected_totals(read_text(YOUTUBE))["revenue"]["USD"]
    assert data["reconciliation"]["USD"] == {
        "source": str(whole),
        "imported": str(whole - Decimal("1.15")),
        "rejected": "1.15",
        "difference": "0",
    }
