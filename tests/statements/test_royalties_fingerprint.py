"""Never pay the same content twice (issue 23 item 6): a line whose content (DSP, period, ISRC, UPC,
artist, territory, units, exact amount, currency, sale and use type) was paid from another file, or
that an earlier file of the same run holds, is left out and the earlier file named."""

from decimal import Decimal as D

import pytest

from statements.royalties import selectors, services
from statements.royalties.calculation import compute
from tests.statements.test_royalties import ANA_ROYALTY, HEADER, ISRC, SALES, by_payee, contract, payee

pytestmark = pytest.mark.django_db

REASON = "the DSP sent it again"
# The same report as SALES with other bytes: CRLF line endings, lines in another order, the amount
# written with a trailing zero, names in another case and with spaces around them.
SAME_CONTENT = HEADER.replace("\n", "\r\n") + (
    "2026-09,Spotify,Nobody Signed,,,Other,NL,10,0.5,EUR,stream\r\n"
    f"2026-08, spotify ,ANA,{ISRC},8712345678901,Song (Remastered),US,700,1.11130,USD,stream\r\n"
    f"2026-09,iTunes,Ana,{ISRC},8712345678901,Song,DE,3,2.070,EUR,download\r\n"
    f"2026-09,Spotify,Ana,{ISRC},8712345678901,Song,NL,1000,3.3333,EUR,stream\r\n"
)


def run_with(flow, *files: tuple[str, str]):
    """A draft run of these (name, content) sales files, processed, with the USD rate known."""
    from statements.models import StatementRun

    run_id = flow.create_run(currency="EUR")
    ids = [
        flow.processed_file(content.encode(), run_id, name=name, duplicate_reason=REASON)
        for name, content in files
    ]
    assert flow.rates(run_id, [{"currency": "USD", "period": "2026-08", "rate": "0.9"}]).status_code == 200
    return StatementRun.objects.get(pk=run_id), ids


def earnings(result, name: str = "Ana") -> D:
    statement = by_payee(result).get(name)
    return D(0) if statement is None else statement.total("earnings")


@pytest.mark.parametrize("content", [SALES, SAME_CONTENT], ids=["same bytes", "other bytes"])
def test_the_same_report_under_a_new_name_adds_nothing_payable(flow, content):
    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    first, (first_file,) = run_with(flow, ("spotify-2026-09.csv", SALES))
    services.finalize_run(run=first)
    paid = selectors.run_statements(first)["statements"][0]["summary"]["payable"]
    assert D(paid["exact"]) == ANA_ROYALTY

    again, (copy,) = run_with(flow, ("spotify-september-final.csv", content))
    result = compute(again)
    assert earnings(result) == 0
    # The unmatched line was never paid: it waits in suspense, where a new contract may still pay it once.
    assert [g["artist"] for g in result.suspense] == ["Nobody Signed"]
    assert result.revenue == D("0.5")
    assert [(d["sales_file_id"], d["earlier_file_id"], d["lines"]) for d in result.duplicates] == [
        (copy, first_file, 3)
    ]
    data = selectors.run_statements(again)
    assert data["duplicates"] == [
        {
            "file": {"id": copy, "name": "spotify-september-final.csv"},
            "earlier_file": {"id": first_file, "name": "spotify-2026-09.csv"},
            "lines": 3,
            "revenue": data["duplicates"][0]["revenue"],
        }
    ]
    assert D(data["duplicates"][0]["revenue"]["exact"]) == D("3.3333") + D("2.07") + D("1.1113") * D("0.9")
    services.finalize_run(run=again)
    finalised = selectors.run_statements(again)
    assert all(D(s["summary"]["earnings"]["exact"]) == 0 for s in finalised["statements"])


def test_two_copies_in_one_draft_run_are_counted_once_the_earlier_file_named(flow):
    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    run, (original, copy) = run_with(flow, ("a.csv", SALES), ("b.csv", SAME_CONTENT))
    result = compute(run)
    assert earnings(result) == ANA_ROYALTY
    assert [(d["sales_file_id"], d["earlier_file_id"], d["lines"]) for d in result.duplicates] == [
        (copy, original, 4)
    ]
    assert [g["artist"] for g in result.suspense] == ["Nobody Signed"]
    assert result.suspense[0]["lines"] == 1


def test_only_the_lines_not_paid_before_are_paid_from_a_corrected_report(flow):
    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    services.finalize_run(run=run_with(flow, ("sept.csv", SALES))[0])
    corrected = SALES.replace("NL,1000,3.3333", "NL,1001,3.3366")  # one line's units and amount changed
    result = compute(run_with(flow, ("sept-corrected.csv", corrected))[0])
    assert earnings(result) == D("3.3366") * D("0.20")
    assert result.duplicates[0]["lines"] == 2  # the two other matched lines; the unmatched one was never paid


def test_identical_lines_within_one_file_are_all_paid(flow):
    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    line = f"2026-09,Spotify,Ana,{ISRC},,Song,NL,10,1.00,EUR,stream\n"
    result = compute(run_with(flow, ("twice.csv", HEADER + line + line))[0])
    assert earnings(result) == D("2.00") * D("0.20")
    assert result.duplicates == []


def test_a_line_paid_under_one_contract_is_still_paid_from_its_own_file_under_a_new_one(flow):
    ana, bo = payee("Ana"), payee("Bo")
    contract(shares=[(ana, "100")])
    first, (file_id,) = run_with(flow, ("sept.csv", SALES))
    services.finalize_run(run=first)
    contract("Producer deal", shares=[(bo, "100")], stream="0.02", download="0.02")
    from statements.models import StatementRun

    run_id = flow.create_run(currency="EUR")
    flow.add_file(run_id, file_id)
    assert flow.rates(run_id, [{"currency": "USD", "period": "2026-08", "rate": "0.9"}]).status_code == 200
    result = compute(StatementRun.objects.get(pk=run_id))
    assert earnings(result) == 0 and earnings(result, "Bo") > 0
    assert result.duplicates == []


def test_the_review_page_and_the_api_name_the_earlier_file(flow, api, make_user):
    from django.test import Client

    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    run, (_, copy) = run_with(flow, ("spotify-sept.csv", SALES), ("spotify-sept (1).csv", SAME_CONTENT))
    bea = Client()
    bea.force_login(make_user("bea", groups=["back-office"]))
    page = bea.get(f"/statements/{run.pk}/royalties/").content.decode()
    assert 'id="duplicate-content"' in page
    assert "spotify-sept (1).csv: 4 lines" in page and "as in spotify-sept.csv" in page
    italian = bea.get(f"/statements/{run.pk}/royalties/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Righe non pagate di nuovo" in italian and "spotify-sept (1).csv: 4 righe" in italian
    body = api.get(f"/api/statement_run/{run.pk}/statements/").json()
    assert [(d["file"]["id"], d["earlier_file"]["name"], d["lines"]) for d in body["duplicates"]] == [
        (copy, "spotify-sept.csv", 4)
    ]
