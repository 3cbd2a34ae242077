"""The statement report: rates and exceptions, rounding and totals, 409s, CSV/XLSX/JSON forms."""

import csv
import io

import openpyxl
import pytest

from statements.models import StatementRun

pytestmark = pytest.mark.django_db

HEADER = "period,dsp,artist,territory,units,revenue,currency\n"
HAND_CHECKED = HEADER + (
    "2026-09,Spotify,Aurora Lane,US,100,4.00,USD\n"
    "2026-09,Spotify,Aurora Lane,US,50,0.69,USD\n"
    "2026-09,Spotify,Aurora Lane,GB,10,1.000,GBP\n"
    "2026-09,Deezer,Aurora Lane,US,20,4.71,USD\n"
    "2026-09,Spotify,Bruno,IT,30,3.345,EUR\n"
)
RATES = [
    {"currency": "USD", "period": "2026-09", "rate": "0.5"},
    {"currency": "GBP", "period": "2026-09", "rate": "1.15"},
]


@pytest.fixture
def hand_checked_run(flow) -> int:
    run_id = flow.create_run(currency="EUR")
    flow.processed_file(HAND_CHECKED.encode(), run_id)
    assert flow.rates(run_id, RATES).status_code == 200
    exceptions = [{"currency": "USD", "rate": "0.6", "dsp": "deezer"}]
    assert flow.rates(run_id, exceptions, kind="currencies_exception").status_code == 200
    return run_id


def test_each_figure_is_rounded_half_even_once_from_its_exact_sum(flow, hand_checked_run):
    response = flow.report(hand_checked_run)
    assert response.status_code == 200
    report = response.json()
    assert report["rows"] == [
        # 4.71 * 0.6 (DSP exception, matched case-insensitively) = 2.826
        {
            "artist": "Aurora Lane",
            "dsp": "Deezer",
            "period": "2026-09",
            "territory": "US",
            "source_currency": "USD",
            "units": 20,
            "gross_source": "4.71",
            "rate": "0.600000",
            "gross": "2.83",
            "exact": "2.826",
        },
        {
            "artist": "Aurora Lane",
            "dsp": "Spotify",
            "period": "2026-09",
            "territory": "GB",
            "source_currency": "GBP",
            "units": 10,
            "gross_source": "1.00",
            "rate": "1.150000",
            "gross": "1.15",
            "exact": "1.15",
        },
        # (4.00 + 0.69) * 0.5 = 2.345: half-even gives 2.34
        {
            "artist": "Aurora Lane",
            "dsp": "Spotify",
            "period": "2026-09",
            "territory": "US",
            "source_currency": "USD",
            "units": 150,
            "gross_source": "4.69",
            "rate": "0.500000",
            "gross": "2.34",
            "exact": "2.345",
        },
        # statement currency: rate 1; 3.345 → 3.34
        {
            "artist": "Bruno",
            "dsp": "Spotify",
            "period": "2026-09",
            "territory": "IT",
            "source_currency": "EUR",
            "units": 30,
            "gross_source": "3.345",
            "rate": "1.000000",
            "gross": "3.34",
            "exact": "3.345",
        },
    ]
    # 2.826 + 1.15 + 2.345 = 6.321 → 6.32; the rounded rows would add up to the same here.
    assert report["artists"] == [
        {"artist": "Aurora Lane", "units": 180, "total": "6.32", "exact": "6.321"},
        {"artist": "Bruno", "units": 30, "total": "3.34", "exact": "3.345"},
    ]
    assert report["dsps"] == [
        {"dsp": "Deezer", "units": 20, "total": "2.83", "exact": "2.826"},
        {"dsp": "Spotify", "units": 190, "total": "6.84", "exact": "6.84"},
    ]
    # The exact sum 9.666 is rounded once: 9.67 (adding the rounded rows would give 9.66).
    assert (report["grand_total"], report["grand_total_exact"]) == ("9.67", "9.666")
    assert report["currency"] == "EUR"


def test_sales_file_exception_beats_dsp_and_period_specific_beats_period_less(flow):
    run_id = flow.create_run()
    line = HEADER + "2026-09,Deezer,Aurora Lane,US,10,10.00,USD\n2026-09,Spotify,Aurora Lane,US,1,1.00,USD\n"
    file_a = flow.processed_file(line.encode(), run_id, name="a.csv")
    file_b = flow.processed_file(
        line.encode(), run_id, name="b.csv", duplicate_reason="two files, one exception each"
    )
    flow.rates(run_id, [{"currency": "USD", "period": "2026-09", "rate": "0.5"}])
    exceptions = [
        {"currency": "USD", "rate": "0.6", "dsp": "Deezer"},
        {"currency": "USD", "rate": "0.7", "dsp": "Deezer", "period": "2026-09"},
        {"currency": "USD", "rate": "0.8", "salesfile": file_b},
        {"currency": "USD", "rate": "0.9", "salesfile": file_b, "period": "2026-10"},
    ]
    assert flow.rates(run_id, exceptions, kind="currencies_exception").status_code == 200
    rows = flow.report(run_id).json()["rows"]
    assert [(r["dsp"], r["units"], r["rate"], r["gross"]) for r in rows] == [
        ("Deezer", 10, "0.700000", "7.00"),  # file a: DSP + period
        ("Deezer", 10, "0.800000", "8.00"),  # file b: its own exception
        ("Spotify", 1, "0.500000", "0.50"),  # file a: run rate
        ("Spotify", 1, "0.800000", "0.80"),  # file b: its own exception
    ]
    assert file_a != file_b


def test_missing_rates_block_the_report_naming_currency_and_period(flow):
    run_id = flow.create_run()
    data = (
        HEADER
        + "2026-10,Spotify,A,US,1,1.00,USD\n2026-09,Spotify,A,GB,1,1.00,GBP\n2026-09,Spotify,A,IT,1,1,EUR\n"
    )
    flow.processed_file(data.encode(), run_id)
    flow.rates(run_id, [{"currency": "USD", "period": "2026-09", "rate": "0.9"}])
    response = flow.report(run_id)
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["message"] == "Report not available: no exchange rate for GBP 2026-09, USD 2026-10."
    assert body["error"]["code"] == "report_not_ready"
    assert body["error"]["problems"] == [
        {"loc": ["rates", "GBP", "2026-09"], "msg": "no exchange rate for GBP 2026-09"},
        {"loc": ["rates", "USD", "2026-10"], "msg": "no exchange rate for USD 2026-10"},
    ]
    flow.rates(
        run_id,
        [
            {"currency": "USD", "period": "2026-10", "rate": "0.9"},
            {"currency": "GBP", "period": "2026-09", "rate": "1.1"},
        ],
    )
    assert flow.report(run_id).status_code == 200


def test_report_needs_every_file_processed(flow):
    run_id = flow.create_run()
    flow.processed_file((HEADER + "2026-09,S,A,IT,1,1,EUR\n").encode(), run_id)
    failed = flow.processed_file(b"garbage\n", run_id, name="bad.csv")
    response = flow.report(run_id)
    assert response.status_code == 409
    assert f"#{failed} 'bad.csv' is failed" in response.json()["error"]["message"]
    assert response.json()["error"]["problems"] == [
        {"loc": ["files", failed], "msg": f"#{failed} 'bad.csv' is FAILED"}
    ]


def test_run_without_files_has_no_report(flow):
    response = flow.report(flow.create_run())
    assert response.status_code == 409 and "no sales files" in response.json()["error"]["message"]


def test_filters_limit_artists_dsps_and_period_range(flow):
    run_id = flow.create_run(artists=["A"], dsps=["Spotify"], periods={"from": "2026-08", "to": "2026-09"})
    data = HEADER + (
        "2026-09,Spotify,A,IT,1,1,EUR\n2026-09,Spotify,B,IT,2,2,EUR\n"
        "2026-09,Deezer,A,IT,4,4,EUR\n2026-10,Spotify,A,IT,8,8,USD\n2026-08,Spotify,A,IT,16,16,EUR\n"
    )
    flow.processed_file(data.encode(), run_id)
    report = flow.report(run_id).json()  # the USD line of 2026-10 is outside: no rate needed
    assert [(r["period"], r["units"]) for r in report["rows"]] == [("2026-08", 16), ("2026-09", 1)]
    assert report["grand_total"] == "17.00"


def test_csv_report_has_rows_subtotals_grand_total_and_no_formulas(flow):
    run_id = flow.create_run()
    data = HEADER + '2026-09,Spotify,=HYPERLINK("x"),IT,-2,-1.005,EUR\n2026-09,@Store,Zed,IT,1,2.50,EUR\n'
    flow.processed_file(data.encode(), run_id)
    response = flow.report(run_id, "csv")
    assert response["Content-Disposition"].startswith('attachment; filename="statement-')
    assert response["Content-Disposition"].endswith(f'-{run_id}.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "type",
            "artist",
            "dsp",
            "period",
            "territory",
            "source_currency",
            "units",
            "gross_source",
            "rate",
            "gross_EUR",
            "exact_EUR",
        ],
        [
            "row",
            '\'=HYPERLINK("x")',
            "Spotify",
            "2026-09",
            "IT",
            "EUR",
            "-2",
            "-1.005",
            "1.000000",
            "-1.00",
            "-1.005",
        ],
        ["artist_total", '\'=HYPERLINK("x")', "", "", "", "", "-2", "", "", "-1.00", "-1.005"],
        ["row", "Zed", "'@Store", "2026-09", "IT", "EUR", "1", "2.50", "1.000000", "2.50", "2.5"],
        ["artist_total", "Zed", "", "", "", "", "1", "", "", "2.50", "2.5"],
        ["dsp_total", "", "'@Store", "", "", "", "1", "", "", "2.50", "2.5"],
        ["dsp_total", "", "Spotify", "", "", "", "-2", "", "", "-1.00", "-1.005"],
        ["grand_total", "", "", "", "", "", "-1", "", "", "1.50", "1.495"],
    ]


def test_xlsx_report_is_a_summary_one_sheet_of_lines_and_the_control_totals(flow):
    run_id = flow.create_run(name="Q3")
    data = HEADER + "2026-09,Spotify,=1+1,IT,3,1.25,EUR\n2026-09,+Store,Zed,IT,1,2.50,EUR\n"
    flow.processed_file(data.encode(), run_id)
    response = flow.report(run_id, "xlsx")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == f'attachment; filename="statement-q3-{run_id}.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary", "Lines", "Control totals"]
    exact = "Exact EUR (text beyond 15 digits)"
    summary = [[c.value for c in row] for row in workbook["Summary"].iter_rows()]
    assert [row[:4] for row in summary[3:12]] == [
        ["Artist", "Units", "Total EUR", exact],
        ["=1+1", 3, 1.25, 1.25],
        ["Zed", 1, 2.5, 2.5],
        [None, None, None, None],
        ["DSP", "Units", "Total EUR", exact],
        ["+Store", 1, 2.5, 2.5],
        ["Spotify", 3, 1.25, 1.25],
        [None, None, None, None],
        ["Grand total", 4, 3.75, 3.75],
    ]
    assert workbook["Summary"]["A5"].data_type == "s", "a name starting with = is text, never a formula"
    lines = [[c.value for c in row] for row in workbook["Lines"].iter_rows()]
    assert lines[0] == [
        "Artist", "DSP", "Period", "Territory", "Source currency", "Units", "Gross (source)", "Rate", "Gross EUR", exact
    ]  # fmt: skip
    assert sorted(lines[1:]) == [
        ["=1+1", "Spotify", "2026-09", "IT", "EUR", 3, 1.25, 1, 1.25, 1.25],
        ["Zed", "+Store", "2026-09", "IT", "EUR", 1, 2.5, 1, 2.5, 2.5],
    ]
    assert all(workbook["Lines"][f"A{n}"].data_type == "s" for n in (2, 3))
    control = [[c.value for c in row] for row in workbook["Control totals"].iter_rows()]
    assert control[0][0] == "Control totals"
    assert control[2][2:8] == [3, 2, 0, "EUR", 4, "3.75"]


def test_an_exact_sum_beyond_excels_15_digits_is_text_and_one_that_fits_a_number():
    from decimal import Decimal

    from statements.report_files import exact_cell

    assert exact_cell(Decimal("1234567890.12345")) == Decimal("1234567890.12345")
    assert exact_cell(Decimal("0.0000000001")) == Decimal("0.0000000001")
    assert exact_cell(Decimal("1234567890.123456")) == "1234567890.123456"
    assert exact_cell(Decimal("0.1234567890123456789012345678")) == "0.1234567890123456789012345678"


def test_report_freezes_the_rates_and_every_change_is_in_history(flow, hand_checked_run):
    assert flow.rates(hand_checked_run, RATES[:1]).status_code == 200
    assert flow.rates(hand_checked_run, RATES).status_code == 200
    assert flow.report(hand_checked_run).status_code == 200
    response = flow.rates(hand_checked_run, RATES[:1])
    assert response.status_code == 409 and "frozen" in response.json()["error"]["message"]
    response = flow.rates(hand_checked_run, [], kind="currencies_exception")
    assert response.status_code == 409
    run = StatementRun.objects.get(pk=hand_checked_run)
    history = list(run.rate_changes.order_by("pk").values_list("kind", "items", "previous"))
    assert [kind for kind, _, _ in history] == ["rates", "exceptions", "rates", "rates"]
    assert history[2][1] == [{"currency": "USD", "period": "2026-09", "rate": "0.5"}]
    assert len(history[2][2]) == 2 and len(history[3][2]) == 1


def test_unknown_report_format_is_a_400(flow, hand_checked_run):
    response = flow.report(hand_checked_run, "pdf")
    assert response.status_code == 400 and "'json', 'csv' or 'xlsx'" in response.json()["error"]["message"]


def test_tiny_negative_amount_rounds_to_plain_zero(flow):
    run_id = flow.create_run()
    flow.processed_file((HEADER + "2026-09,Spotify,A,IT,-1,-0.001,EUR\n").encode(), run_id)
    report = flow.report(run_id).json()
    assert (report["rows"][0]["gross"], report["artists"][0]["total"], report["grand_total"]) == (
        "0.00",
        "0.00",
        "0.00",
    )
