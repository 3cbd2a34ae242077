"""Every real sales report in ../shared/realdata/statements imports through the real pipeline, in a
run of the file's own currency, with the units and the exact per-currency totals computed here
from the file itself by plain `csv` and `decimal` arithmetic (or, for a genuinely malformed file,
fails with a reason naming the defect). The files are read where they are, never copied; the
tests skip when the folder is absent (a user's clone)."""

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Context, Decimal
from pathlib import Path

import pytest

from statements.models import SalesLine

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "statements"
# Enough digits that sums of 28-significant-digit amounts are exact (Decimal's default is 28).
EXACT = Context(prec=100)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent"),
]


@dataclass(frozen=True)
class Delimited:
    """How to read one file's sales lines independently of the project's cleaners."""

    path: str
    format: str
    currency: str  # the run's (and the file's) currency
    units: str  # header of the units column
    revenue: str  # header of the amount column
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    header_line: int = 1
    decimal_comma: bool = False
    # A data line that is not a sale (totals row, payout, repeated header): skipped.
    skip: Callable[[dict], bool] = lambda row: False
    # A reversal: its units count negative and its amount is negative.
    void: Callable[[dict], bool] = lambda row: False
    warnings: tuple[str, ...] = field(default=())  # fragments of the expected warnings


def _no_more_columns(row: dict) -> bool:
    return None in row.values()  # a short trailer or totals line has fewer cells than the header


CASES = [
    Delimited("set1/symphonic_example_report.csv", "symphonic", "USD", "Count", "Royalty ($US)",
              void=lambda row: row["Sale or Void"] == "Void",
              warnings=("territory 'N/A' is not an ISO 3166 country: kept as unknown (ZZ) on 4 line(s)",)),
    Delimited("set1/Apple_Streams_S1_80032046_1117_AU_for_201710_example.txt", "apple_music", "AUD",
              "Quantity", "Net Royalty Total", delimiter="\t", header_line=5),
    Delimited("set2/trackshift_DistroKid_Test.tsv", "distrokid", "USD", "Quantity", "Earnings (USD)",
              delimiter="\t"),
    Delimited("set2/trackshift_CdBaby_Test.txt", "cd_baby", "USD", "Quantity", "Subtotal", delimiter="\t"),
    Delimited("set2/trackshift_Tunecore_Test.csv", "tunecore", "GBP", "# Units Sold", "Total Earned"),
    Delimited("set2/trackshift_bandcamp-simple-3-songs.csv", "bandcamp", "GBP", "quantity", "net amount"),
    Delimited("set2/sahelsounds_bandcamp_utf16_test_income_bandcamp.csv", "bandcamp", "USD", "quantity",
              "net amount", encoding="utf-16", skip=lambda row: row["item type"] == "payout"),
    # The Reported Royalty is in pounds: the calculation column ends "= £" on every line.
    Delimited("set2/trackshift_cargo-simple-3-songs.csv", "fuga_royalty", "GBP", "Quantity", "Reported Royalty"),
    Delimited("set2/trackshift_Cargo_Digital_Test-royalty_extended.csv", "fuga_royalty", "GBP", "Quantity",
              "Reported Royalty"),
    # The sample is cut from a larger report: its Totals row (9656 units, USD 17.12676911) is the
    # whole report's, and the file says so in a warning.
    Delimited("set2/sahelsounds_ingrooves_sds_test1.csv", "ingrooves", "USD", "Quantity Net", "US$ After Fees",
              skip=lambda row: row["Period"] == "Totals",
              warnings=("the file declares USD 17.12676911 in its own totals; its imported lines hold USD 0.05496187",)),
    Delimited("set2/sahelsounds_sd_digital_test1.csv", "secretly_digital", "USD", "Quantity", "Label Net Total",
              warnings=("ISRC 'QZDZE1905x03' is not a valid ISRC",)),
    Delimited("set2/sahelsounds_sd_physical_test1.csv", "secretly_physical", "USD", "signedQuantity",
              "Label Net Total"),
    Delimited("set3/bamroyalties_Oct2017_fullreport_big_artist_EU.csv", "orchard_fullreport", "EUR", "Quantity",
              "Label Share Net Receipts", delimiter=";", decimal_comma=True,
              warnings=("UPC '1,91774E+11' was destroyed by a spreadsheet",)),
    Delimited("set3/distalgo_Apple_DL_80032046_AU_example.txt", "itunes", "AUD", "Quantity",
              "Extended Partner Share", delimiter="\t"),
    Delimited("set3/distalgo_tmp-422006745-finetunes-track-for-streaming-201710_example.txt", "spotify", "USD",
              "Quantity", "USD Payable", delimiter="\t", header_line=3),
    Delimited("set3/instereo_Traxsource-July-2017-Statement.csv", "traxsource", "USD", "Qty", "Amount Due",
              skip=_no_more_columns, warnings=("a text trailer of 15 line(s) follows the sales",)),
    Delimited("set3/instereo_Beatport-2017-Q3-Statement.csv", "beatport", "USD", "TRACK_COUNT", "NET_TOTAL",
              void=lambda row: row["SALE_TYPE"] == "Void"),
]  # fmt: skip


def expected_totals(case: Delimited) -> tuple[int, int, dict[str, dict]]:
    """(lines, units, {currency: {"lines", "units", "revenue"}}) of the file, read with csv."""
    text = (REALDATA / case.path).read_bytes().decode(case.encoding)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=case.delimiter)
    for _ in range(case.header_line - 1):
        next(reader.reader)
    lines, units, revenue = 0, 0, Decimal(0)
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)) or case.skip(
            row
        ):
            continue
        amount = row[case.revenue].strip()
        if case.decimal_comma:
            amount = amount.replace(".", "").replace(",", ".")
        amount, count = Decimal(amount), int(row[case.units])
        if case.void(row):
            amount, count = -abs(amount), -abs(count)
        lines += 1
        units += count
        revenue = EXACT.add(revenue, amount)
    return {case.currency: {"lines": lines, "units": units, "revenue": revenue}}


def imported(flow, path: str, currency: str) -> dict:
    run_id = flow.create_run(currency=currency)
    file_id = flow.processed_file((REALDATA / path).read_bytes(), run_id, name=Path(path).name)
    return flow.file(file_id)


@pytest.mark.parametrize("case", CASES, ids=[Path(case.path).name for case in CASES])
def test_real_report_imports_with_exact_units_and_totals(flow, case):
    expected = expected_totals(case)
    data = imported(flow, case.path, case.currency)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    assert data["format"] == case.format
    assert data["lines_rejected"] == 0
    totals = {
        currency: {"lines": t["lines"], "units": t["units"], "revenue": Decimal(t["revenue"])}
        for currency, t in data["totals"].items()
    }
    assert totals == expected
    # The lines themselves hold every digit the file has, summed by Python.
    lines = SalesLine.objects.filter(sales_file_id=data["id"])
    by_currency: defaultdict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in lines.values_list("currency", "revenue"):
        by_currency[currency] = EXACT.add(by_currency[currency], amount)
    assert dict(by_currency) == {c: t["revenue"] for c, t in expected.items()}
    # The file reconciles: its amounts = imported + rejected (nothing rejected here), exactly.
    assert {c: {k: Decimal(v) for k, v in r.items()} for c, r in data["reconciliation"].items()} == {
        c: {"source": t["revenue"], "imported": t["revenue"], "rejected": 0, "difference": 0}
        for c, t in expected.items()
    }
    for fragment in case.warnings:
        assert any(fragment in warning for warning in data["warnings"]), data["warnings"]


# --- DDEX DSR flat files: the records are read with the csv module and summed here -------------


def dsr_records(path: str) -> list[dict[str, str]]:
    """Each record as {column name: value}, named by the file's own `#` header records."""
    text = (REALDATA / path).read_text(encoding="utf-8")
    headers: dict[str, list[str]] = {}
    records = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter="\t"):
        if row and row[0].startswith("#"):
            headers[row[0][1:]] = ["type", *row[1:]]
        elif row:
            records.append(dict(zip(headers.get(row[0], ["type"]), row, strict=False)))
    return records


DSR_BASIC_AUDIO = [
    "set1/DSR_PADPIDA00123456743_PADPIDA0123456766K_UnlimitedMusicMonthly_2020-06-01--2020-06-30__1of1_20200703T075930.tsv",
]
DSR_UGC = [
    "set1/DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv",
    "set2/DSR_TEST2_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv",
]


@pytest.mark.parametrize("path", DSR_BASIC_AUDIO)
def test_real_dsr_basic_audio_imports_its_summary_revenue(flow, path):
    """Basic Audio 1.3: the SY01.02 records' NetRevenue spread over their usages; units are the SU
    records' NumberOfStreams."""
    records = dsr_records(path)
    summaries = [r for r in records if r["type"].startswith("SY")]
    currency = summaries[0]["CurrencyOfReporting"]
    revenue = sum((Decimal(r["NetRevenue"]) for r in summaries), Decimal(0))
    units = sum(int(r["NumberOfStreams"]) for r in records if r["type"].startswith("SU"))
    data = imported(flow, path, currency)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    assert (data["totals"][currency]["units"], Decimal(data["totals"][currency]["revenue"])) == (
        units,
        revenue,
    )


@pytest.mark.parametrize("path", DSR_UGC)
def test_real_dsr_ugc_imports_its_licensed_lines(flow, path):
    """UGC 1.x: one line per SU record with its Usages; its revenue is the AllocatedNetRevenue of
    the LI records that follow it (the cleaner's basis today, see issue 22 item 4), or the SU's
    own NetRevenue when none follows (TEST2 has such a usage)."""
    records = dsr_records(path)
    currency = next(r["Currency"] for r in records if r["type"].startswith("SY"))
    usages = [r for r in records if r["type"].startswith("SU")]
    units = sum(int(r["Usages"]) for r in usages)
    per_usage: dict[int, list[Decimal]] = defaultdict(list)
    for record in records:
        if record["type"].startswith("SU"):
            current = id(record)
        elif record["type"].startswith("LI"):
            per_usage[current].append(Decimal(record["AllocatedNetRevenue"]))
    revenue = Decimal(0)
    for usage in usages:
        for amount in per_usage.get(id(usage)) or [Decimal(usage["NetRevenue"])]:
            revenue = EXACT.add(revenue, amount)
    data = imported(flow, path, currency)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    assert (data["totals"][currency]["units"], Decimal(data["totals"][currency]["revenue"])) == (
        units,
        revenue,
    )


# --- genuinely malformed files fail with the defect named --------------------------------------


MALFORMED = [
    # Its SU records point at summary record "SY1"; the one SY02.03 record's id is "1".
    (
        "set1/DSR_PADPIDA2015999999X_PADPIDA2015999999X_AdFunded_2015-08-01--2015-08-31__1of1_20151123T182957.tsv",
        "EUR",
        "usage of an unknown summary record 'SY1'",
    ),
    # A HEAD of four fields (no usage period, no parties): not a DSR message a period can come from.
    (
        "set2/DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_1of2_20150723T092522.tsv",
        "USD",
        "HEAD UsageStartDate '' is not a date",
    ),
    (
        "set2/DSR_PADPIDA2014999999Z_PADPIDA2014111801Y_AdSupport_2015-02_AU_2of2_20150723T092522.tsv",
        "USD",
        "HEAD UsageStartDate '' is not a date",
    ),
]


@pytest.mark.parametrize(("path", "currency", "defect"), MALFORMED)
def test_malformed_real_file_fails_naming_the_defect(flow, path, currency, defect):
    data = imported(flow, path, currency)
    assert data["status"] == "FAILED" and defect in data["failure_reason"]
    assert not SalesLine.objects.filter(sales_file_id=data["id"]).exists()


CLICKNCLEAR = "set2/clicknclear_TEST_RIGHTSHOLDER_STANDARD_Q1_2023.csv"


def test_real_clicknclear_report_imports_one_unit_per_sale(flow):
    """ClicknClear (cnc-reporting-spec): no header; S rows are sales (one licence each) whose last
    column is the Amount Due to Rightsholder; T rows are each income type's totals."""
    rows = list(csv.reader(io.StringIO((REALDATA / CLICKNCLEAR).read_text(encoding="utf-8"), newline="")))
    sales = [row for row in rows if row[0] == "S"]
    currency = sales[0][10] if sales[0][1] == "M" else sales[0][9]  # the Currency column
    revenue = sum((Decimal(row[-1]) for row in sales), Decimal(0))
    data = imported(flow, CLICKNCLEAR, currency)
    assert data["status"] == "PROCESSED", data["failure_reason"]
    assert (data["format"], data["lines_rejected"], data["warnings"]) == ("clicknclear", 0, [])
    assert data["totals"] == {currency: {"lines": len(sales), "units": len(sales), "revenue": str(revenue)}}
    # The totals rows agree: each income type's amount due is its sales' sum.
    declared = sum((Decimal(row[7]) for row in rows if row[0] == "T"), Decimal(0))
    assert declared == revenue


def test_clicknclear_keeps_an_unknown_territory_and_counts_a_rejected_sales_money():
    """Derived from the real report: a territory no country has is kept as ZZ with a warning; a sale
    whose date does not read is rejected with its amount due, which the reconciliation counts."""
    from statements.cleaners import parse
    from statements.cleaners.base import Problem

    lines = (REALDATA / CLICKNCLEAR).read_text(encoding="utf-8").splitlines(keepends=True)
    sales = [number for number, line in enumerate(lines) if line.startswith("S,")]
    lines[sales[0]] = lines[sales[0]].replace(",Music Label,US,", ",Music Label,Atlantis,")
    lines[sales[1]] = lines[sales[1]].replace("S,M,2023-01-01T00:00:00.000Z", "S,M,someday")
    _, items, stats = parse(io.BytesIO("".join(lines).encode()), file_name="derived.csv")
    items = list(items)
    (problem,) = [item for item in items if isinstance(item, Problem)]
    assert (problem.line, problem.amount, problem.currency) == (sales[1] + 1, "7.2916", "USD")
    kept = [row for row in items if not isinstance(row, Problem) and row[0] == sales[0] + 1]
    assert kept[0][7] == "ZZ"
    assert (
        "territory 'Atlantis' is not an ISO 3166 country: kept as unknown (ZZ) on 1 line(s)" in stats.warnings
    )


def test_every_real_file_has_a_test():
    tested = {case.path for case in CASES} | set(DSR_BASIC_AUDIO) | set(DSR_UGC) | {m[0] for m in MALFORMED}
    tested.add(CLICKNCLEAR)
    assert tested == {f"{p.parent.name}/{p.name}" for p in REALDATA.glob("set*/*")}


def test_every_warning_of_the_real_reports_reads_in_italian():
    """The warnings the real corpus gives (stored in English) each match a translatable template,
    so the run page shows them in Italian; in English they read exactly as stored."""
    from django.utils import translation

    from statements.cleaners import parse
    from statements.cleaners.profiles import builtin_profiles
    from statements.texts import warning_text

    warnings = []
    for path in sorted(REALDATA.rglob("*.*")):
        with path.open("rb") as stream:
            _, items, stats = parse(stream, profiles=builtin_profiles(), file_name=path.name)
            for _item in items:
                pass
        warnings += stats.warnings
    assert len(warnings) >= 8
    for warning in warnings:
        assert warning_text(warning) == warning
        with translation.override("it"):
            assert warning_text(warning) != warning, warning
