"""Money that adds up: lines converted at full precision, each figure rounded once from its exact
sum. Expected figures are computed here independently, with plain Decimal over the source text."""

import csv
import io
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from tests.statements.conftest import fixture_bytes

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")
SYMPHONIC_HEADER = (
    "Reporting Period,Label,Release Artists,UPC Code,ISRC Code,Track Artists,"
    "Digital Service Provider,Activity Period,Territory,Sale or Void,Count,Royalty ($US)\n"
)
TERRITORIES = ("USA", "GBR", "DEU", "FRA", "ITA", "ESP", "NLD", "SWE", "NOR", "DNK", "FIN", "POL", "BRA")
DSPS = ("Spotify", "Apple Music", "Deezer", "YouTube Music", "Amazon Music", "Tidal")
ARTISTS = ("Mira Vale", "The Quiet Hours")
USD_RATE = Decimal("0.9134")


def micro_payments_file() -> str:
    """A distributor statement of streaming micro-payments: 156 report rows, most worth less than
    half a cent each once converted, as real Symphonic exports are."""
    lines = []
    for n in range(156):
        artist = ARTISTS[n % 2]
        dsp = DSPS[(n // 2) % 6]
        territory = TERRITORIES[(n // 12) % 13]
        royalty = Decimal(n % 7 + 1) / 1000 + Decimal(n % 3) / 10000  # 0.0010 … 0.0072
        units = n % 5 + 1
        lines.append(
            f"JUN-25,Lanterna Records,{artist},5099901234567,GBXYZ2500001,{artist},{dsp},June 2025,"
            f"{territory},Sale,{units},{royalty}\n"
        )
    return SYMPHONIC_HEADER + "".join(lines)


def test_micro_payments_add_up_to_the_exact_converted_sum_rounded_once(flow):
    content = micro_payments_file()
    run_id = flow.create_run(currency="EUR")
    flow.processed_file(content.encode(), run_id, name="symphonic.csv")
    assert (
        flow.rates(run_id, [{"currency": "USD", "period": "2025-06", "rate": str(USD_RATE)}]).status_code
        == 200
    )
    report = flow.report(run_id).json()

    exact_by_artist = dict.fromkeys(ARTISTS, Decimal(0))
    exact_by_row: dict[tuple, Decimal] = {}
    for record in csv.DictReader(io.StringIO(content)):
        amount = Decimal(record["Royalty ($US)"]) * USD_RATE
        exact_by_artist[record["Track Artists"]] += amount
        key = (record["Track Artists"], record["Digital Service Provider"], record["Territory"])
        exact_by_row[key] = exact_by_row.get(key, Decimal(0)) + amount
    grand = sum(exact_by_artist.values())
    assert len(report["rows"]) == len(exact_by_row) == 156
    assert report["grand_total_exact"] == format(grand.normalize(), "f")
    assert report["grand_total"] == str(grand.quantize(CENT, ROUND_HALF_EVEN))
    assert {a["artist"]: a["total"] for a in report["artists"]} == {
        artist: str(total.quantize(CENT, ROUND_HALF_EVEN)) for artist, total in exact_by_artist.items()
    }
    # Rounding the rows first would have lost money: most rows are worth less than half a cent.
    rounded_rows = [value.quantize(CENT, ROUND_HALF_EVEN) for value in exact_by_row.values()]
    assert sum(1 for value in rounded_rows if value == 0) > 50
    assert sum(rounded_rows) != grand.quantize(CENT, ROUND_HALF_EVEN)
    assert [r["gross"] for r in report["rows"]].count("0.00") == rounded_rows.count(Decimal("0.00"))


def test_semicolon_decimal_comma_sample_grand_total_is_the_exact_sum_rounded_once(flow):
    content = fixture_bytes("deezer_2026-09_semicolon.csv")
    run_id = flow.create_run(currency="EUR")
    flow.processed_file(content, run_id, name="deezer.csv")
    chf_rate = Decimal("1.0713")
    assert (
        flow.rates(run_id, [{"currency": "CHF", "period": "2026-09", "rate": str(chf_rate)}]).status_code
        == 200
    )
    report = flow.report(run_id).json()

    exact = Decimal(0)
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
    for record in reader:
        amount = Decimal(record["amount"].replace(".", "").replace(",", "."))
        exact += amount * (chf_rate if record["currency"] == "CHF" else 1)
    assert report["grand_total_exact"] == format(exact.normalize(), "f")
    assert report["grand_total"] == str(exact.quantize(CENT, ROUND_HALF_EVEN))


def test_a_line_in_the_run_currency_needs_no_rate_and_others_block_the_report(flow):
    run_id = flow.create_run(currency="EUR")
    body = "period,dsp,artist,territory,units,revenue,currency\n2026-09,S,A,IT,1,1.005,EUR\n2026-09,S,A,US,1,2,USD\n"
    flow.processed_file(body.encode(), run_id)
    response = flow.report(run_id)
    assert response.status_code == 409 and response.json()["error"]["problems"] == [
        {"loc": ["rates", "USD", "2026-09"], "msg": "no exchange rate for USD 2026-09"}
    ]
    flow.rates(run_id, [{"currency": "USD", "period": "2026-09", "rate": "0.5"}])
    assert flow.report(run_id).json()["grand_total"] == "2.00"  # 1.005 + 1 = 2.005 → 2.00 (half-even)


def test_figures_are_rounded_to_the_statement_currency_minor_unit(flow):
    run_id = flow.create_run(currency="JPY")
    body = "period,dsp,artist,territory,units,revenue,currency\n2026-09,S,A,JP,1,100.5,JPY\n2026-09,S,B,JP,1,0.5,JPY\n"
    flow.processed_file(body.encode(), run_id)
    report = flow.report(run_id).json()
    assert [a["total"] for a in report["artists"]] == ["100", "0"]  # half-even to whole yen
    assert (report["grand_total"], report["grand_total_exact"]) == ("101", "101")


def test_report_carries_control_totals_per_file_and_for_the_run(flow):
    run_id = flow.create_run(currency="EUR")
    file_id = flow.processed_file(fixture_bytes("with_errors.csv"), run_id, name="tidal.csv")
    flow.rates(run_id, [{"currency": c, "period": "2026-09", "rate": "0.085"} for c in ("NOK", "SEK")])
    response = flow.report(run_id)
    assert response.status_code == 200, response.content
    report = response.json()
    (data,) = report["files"]
    assert (
        data["id"],
        data["format"],
        data["lines_read"],
        data["lines_imported"],
        data["lines_rejected"],
    ) == (
        file_id,
        "generic_csv",
        12,
        5,
        4,
    )
    # Lines 4 (no artist) and 5 (a malformed ISRC) are imported: their money is never dropped.
    totals = {
        "NOK": {"lines": 4, "units": 400, "revenue": "3.4"},
        "SEK": {"lines": 1, "units": 40, "revenue": "0.34"},
    }
    assert data["totals"] == totals
    assert report["control"] == {"lines_read": 12, "lines_imported": 5, "lines_rejected": 4, "totals": totals}


def test_rejected_lines_money_is_reconciled(flow):
    run_id = flow.create_run(currency="EUR")
    file_id = flow.processed_file(fixture_bytes("with_errors.csv"), run_id, name="tidal.csv")
    # Lines 3 (period 2026-13) and 8 (units "many") are rejected with NOK 0.85 each; line 9's
    # amount does not read, line 10 has none.
    assert flow.file(file_id)["reconciliation"] == {
        "NOK": {"source": "5.1", "imported": "3.4", "rejected": "1.7", "difference": "0"},
        "SEK": {"source": "0.34", "imported": "0.34", "rejected": "0", "difference": "0"},
    }


def test_an_import_that_does_not_hold_the_files_money_is_refused():
    from statements import services
    from statements.models import SalesFile, SalesLine

    sales_file = SalesFile.objects.create(
        name="x.csv", status="IMPORTING", reconciliation={"USD": {"source": "1.00", "rejected": "0.01"}}
    )
    SalesLine.objects.create(
        sales_file=sales_file, line_number=2, period="2026-09", dsp="S", artist="A", territory="US",
        units=1, revenue=Decimal("0.98"), currency="USD",
    )  # fmt: skip
    with pytest.raises(services.NotReconciled, match=r"difference USD 0.01") as failure:
        services.finish_import(sales_file, lines=1)
    assert failure.value.reconciliation["USD"] == {
        "source": "1",
        "imported": "0.98",
        "rejected": "0.01",
        "difference": "0.01",
    }
