"""A draft's figures come from one pass over the lines with each line's rate applied (issue 23 item
9); its line detail is written later, for one payee when their detail is first read and for every
contract when the run is finalised. Both must tell the same story to the last decimal: every payee's
breakdowns and earnings are the sums of their line detail, as the statements computed them from
the detail before, on generated runs (overrides, two currencies, reserves, unmatched lines, lines
paid by an earlier run, a file uploaded twice) and on a real report."""

import random
from collections import defaultdict
from decimal import Decimal as D

import pytest

from statements.royalties import selectors, services, storage
from statements.royalties.models import ContractRate, RoyaltyStatementGroup
from tests.statements.test_royalties import HEADER, contract, payee, processed_run
from tests.statements.test_royalties_fingerprint_realdata import REPORT, run_of

pytestmark = pytest.mark.django_db

BREAKDOWN_KEYS = {"by_dsp": "dsp", "by_month": "period", "by_territory": "territory", "by_track": "isrc"}
TRACKS = [
    ("Ana", "NLA012600001", "8712345678901"),
    ("Ana", "NLA012600002", "8712345678901"),
    ("Bo", "NLB012600001", "8712345678902"),
    ("Bo", "NLB012600002", ""),
    ("Cy", "NLC012600001", "8712345678903"),
    ("Nobody Signed", "", ""),
]


def generated_sales(lines: int, seed: int = 23) -> str:
    rng = random.Random(seed)
    rows = []
    for _ in range(lines):
        artist, isrc, upc = rng.choice(TRACKS)
        rows.append(
            ",".join(
                (
                    rng.choice(("2026-08", "2026-09")),
                    rng.choice(("Spotify", "YouTube", "iTunes")),
                    artist,
                    isrc,
                    upc,
                    f"Song {isrc}",
                    rng.choice(("NL", "DE", "JP")),
                    str(rng.randrange(1, 900)),
                    str(D(rng.randrange(-40, 90_000)).scaleb(-4)),
                    rng.choice(("EUR", "USD")),
                    rng.choice(("stream", "stream", "download", "physical", "other")),
                )
            )
        )
    return HEADER + "\n".join(rows) + "\n"


def generated_run(flow, sales: str | None = None, **file):
    run = processed_run(flow, sales, **file) if sales else processed_run(flow, **file)
    rates = [{"currency": "USD", "period": period, "rate": "0.9213"} for period in ("2026-08", "2026-09")]
    assert flow.rates(run.pk, rates).status_code == 200
    return run


def deals():
    ana, bo, cy = payee("Ana"), payee("Bo"), payee("Cy")
    first = contract("Ana deal", shares=[(ana, "60"), (bo, "40")], isrcs=[], artists=["Ana"])
    first.reserve_rate = D("0.1")
    first.save()
    contract("Bo deal", shares=[(bo, "100")], isrcs=[], upcs=["8712345678902"], artists=["Bo"])
    contract("Cy deal", shares=[(cy, "33.333333"), (ana, "66.666667")], isrcs=["NLC012600001"])
    ContractRate.objects.create(contract=first, dsp="youtube", rate=D("0.08"))
    ContractRate.objects.create(contract=first, territory="JP", sale_type="stream", rate=D("0.18"))
    return ana, bo, cy


def assert_detail_tells_the_same(run) -> dict:
    """Every payee's breakdowns and earnings equal the sums of their line detail, exactly; the detail
    one payee's page wrote equals the one written for every contract. Returns the whole statements."""
    data = selectors.run_statements(run)
    assert data["statements"]
    kept = storage.statement_set(run)
    first_payee = data["statements"][0]["payee"]["id"]
    alone = selectors.payee_statement(run, first_payee)["lines"]
    assert RoyaltyStatementGroup.objects.filter(statement_set=kept).exists()
    storage.write_line_detail(kept)
    whole = {}
    for summary in data["statements"]:
        statement = selectors.payee_statement(run, summary["payee"]["id"])
        whole[summary["payee"]["id"]] = statement
        sums = defaultdict(lambda: defaultdict(D))
        for line in statement["lines"]:
            for key in BREAKDOWN_KEYS.values():
                sums[key][line[key]] += D(line["earnings"]["exact"])
        total = sum(sums["dsp"].values(), D(0))
        assert D(statement["summary"]["earnings"]["exact"]) == total
        for name, key in BREAKDOWN_KEYS.items():
            assert {item["name"]: D(item["earnings"]["exact"]) for item in statement[name]} == dict(sums[key])
    assert whole[first_payee]["lines"] == alone
    return {"data": data, "payees": whole}


def test_a_generated_run_tells_the_same_in_its_figures_and_its_line_detail(flow):
    deals()
    run = generated_run(flow, generated_sales(600))
    before = assert_detail_tells_the_same(run)
    assert before["data"]["unallocated"]
    services.finalize_run(run=run)
    after = {
        "data": selectors.run_statements(run),
        "payees": {p: selectors.payee_statement(run, p) for p in before["payees"]},
    }
    after["data"]["run"]["finalized"] = False
    assert after == before


def test_lines_paid_by_an_earlier_run_and_a_file_sent_twice_leave_the_same_figures_as_their_detail(flow):
    ana, _, _ = deals()
    sales = generated_sales(400, seed=5)
    first = generated_run(flow, sales)
    services.finalize_run(run=first)
    # A second contract on Ana's tracks: their lines, paid under the first, are paid under it only.
    contract("Ana second deal", shares=[(ana, "100")], isrcs=[], artists=["Ana"])
    again = generated_run(flow, file_id=first.sales_files.get().pk)
    more = generated_sales(200, seed=6).encode()
    flow.processed_file(more, again.pk, name="more.csv")
    flow.processed_file(more, again.pk, name="more again.csv", duplicate_reason="sent twice")
    data = assert_detail_tells_the_same(again)["data"]
    assert data["already_allocated_lines"] > 0 and data["duplicates"]


@pytest.mark.skipif(not REPORT.is_file(), reason="../shared/realdata is absent")
def test_a_real_report_tells_the_same_in_its_figures_and_its_line_detail(flow):
    run, _ = run_of(flow, REPORT.name, REPORT.read_bytes())
    lines = run.sales_files.get().lines
    artists = sorted(set(lines.values_list("artist", flat=True)))
    isrcs = sorted(set(lines.exclude(isrc="").values_list("isrc", flat=True)))
    junior, senior = payee("Junior"), payee("Senior")
    deal = contract("Big artist deal", shares=[(junior, "70"), (senior, "30")], isrcs=[], artists=artists)
    ContractRate.objects.create(contract=deal, dsp="spotify", rate=D("0.3"))
    contract("Half the tracks", shares=[(senior, "100")], isrcs=isrcs[: len(isrcs) // 2], stream="0.45")
    assert_detail_tells_the_same(run)
