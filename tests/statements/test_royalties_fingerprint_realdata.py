"""A real report (The Orchard's full report, ../shared/realdata) paid by a finalised run, then
uploaded again under another name — the same bytes, and with other line endings and its lines in
another order — adds nothing payable: every line is reported as paid from the first file."""

from decimal import Decimal
from pathlib import Path

import pytest

from statements.models import SalesLine, StatementRun
from statements.royalties import selectors, services
from tests.statements.test_royalties import contract, payee

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "statements"
REPORT = REALDATA / "set3" / "bamroyalties_Oct2017_fullreport_big_artist_EU.csv"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REPORT.is_file(), reason="../shared/realdata is absent"),
]


def other_bytes(content: bytes) -> bytes:
    """The same report with LF line endings and its sales lines in reverse order."""
    header, *lines = content.decode().splitlines()
    return "\n".join([header, *reversed([line for line in lines if line.strip()])]).encode() + b"\n"


def run_of(flow, name: str, content: bytes) -> tuple[StatementRun, int]:
    run_id = flow.create_run(currency="EUR")
    file_id = flow.processed_file(
        content, run_id, name=name, duplicate_reason="held-out: the same report again"
    )
    return StatementRun.objects.get(pk=run_id), file_id


def earnings(data: dict) -> Decimal:
    return sum((Decimal(s["summary"]["earnings"]["exact"]) for s in data["statements"]), Decimal(0))


@pytest.mark.parametrize(
    "again", [lambda b: b, other_bytes], ids=["same bytes", "other line endings and order"]
)
def test_a_real_report_uploaded_again_under_another_name_adds_nothing_payable(flow, again):
    content = REPORT.read_bytes()
    first, first_file = run_of(flow, REPORT.name, content)
    lines = SalesLine.objects.filter(sales_file_id=first_file)
    artists = sorted(set(lines.values_list("artist", flat=True)))
    contract("Big artist deal", shares=[(payee("Junior"), "100")], isrcs=[], artists=artists, stream="0.5")
    paid = services.finalize_run(run=first)
    assert earnings(selectors.run_statements(first)) > 0
    assert paid.sequence == 1

    second, copy = run_of(flow, "orchard-october-2017 (resent).csv", again(content))
    data = selectors.run_statements(second)
    assert earnings(data) == 0
    assert [(d["file"]["id"], d["earlier_file"]["id"], d["lines"]) for d in data["duplicates"]] == [
        (copy, first_file, lines.count())
    ]
    assert data["unallocated"] == []
