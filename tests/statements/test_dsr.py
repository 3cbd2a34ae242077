"""DDEX DSR flat files read as the standard defines them (statements.cleaners.dsr).

Expected totals are computed here independently of the parser: plain Decimal/Fraction arithmetic
over the files' own records, read by their heading rows (or, for the file without heading rows,
by the column order spelled out below from the profile's XSD). See fixtures/statements/dsr/README.md
for where each file comes from.
"""

import io
import itertools
import tracemalloc
from collections import defaultdict
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest

from statements.cleaners.base import CLEAN_COLUMNS, Problem, Stats
from statements.cleaners.dsr import looks_like_dsr, parse_dsr
from statements.cleaners.text import open_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "statements" / "dsr"
SPOTIFY = (
    "DSR_PADPIDA2026010101X_PADPIDA2011050901S_SpotifyPremium-SpotifyFree_2026-08_WW_1of1_20260912T040000.tsv"
)
TIDAL = "DSR_PADPIDA2026010101X_PADPIDA2014120301U_TidalHiFi_2026-09_WW_1of1_20261005T081200.tsv"
DEEZER = "DSR_PADPIDA2026010101X_PADPIDA2012345678D_Deezer_2026-08_FR_1of1_20260910T101500.tsv"
VOD = "DSR_PADPIDA2026010101X_PADPIDA2019999999V_VodPlus_2026-07_DE_1of1_20260805T120000.tsv"
QOBUZ = "DSR_PADPIDA2026010101X_PADPIDA2011111111Q_QobuzStudio_2026-06_US_{}of2_20260702T090000.tsv"
APPLE_SRB = "DSR_PADPIDA2026010101X_PADPIDA2009999999A_AppleMusicIndividual-iTunesStore_2026-05_JP_1of1_20260603T070000.tsv"
YOUTUBE = "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv"
YOUTUBE2 = "DSR_TEST2_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv"

# Basic Audio Profile 1.1 column order (ddexnet/dsrf schemas/BasicAudioProfile/1.1), for the
# file that has no heading rows.
BASIC_AUDIO_1_1 = {
    "SY02.01": "SummaryRecordId DistributionChannel DistributionChannelDPID CommercialModel UseType Territory "
    "ServiceDescription Usages Users Currency NetRevenue",
    "AS02.01": "BlockId ResourceReference DspResourceId ISRC Title SubTitle DisplayArtistName",
    "SU02": "BlockId SummaryRecordId SalesTransactionId TransactedRelease TransactedResource IsRoyaltyBearing "
    "NumberOfStreams",
}


def read_text(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def parse_text(text: str) -> tuple[list[tuple], list[Problem], Stats]:
    stats = Stats()
    rows, problems = [], []
    for item in parse_dsr(iter(text.splitlines(keepends=True)), stats):
        (problems if isinstance(item, Problem) else rows).append(item)
    return rows, problems, stats


def records(text: str, fallback: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The file's data records as name → value, by its heading rows (or `fallback`)."""
    names = {kind: ["RecordType", *columns.split()] for kind, columns in (fallback or {}).items()}
    out = []
    for line in text.splitlines():
        cells = line.split("\t")
        if line.startswith("#"):
            names[cells[0][1:]] = ["RecordType", *cells[1:]]
        elif line:
            out.append(dict(zip(names.get(cells[0], ["RecordType"]), cells, strict=False)))
    return out


def expected_totals(text: str, fallback: dict[str, str] | None = None) -> dict:
    """Units, revenue per currency and usage lines, from the file's own records.

    Money on a usage line (UGC: its LI records' AllocatedNetRevenue, else its NetRevenue) counts
    as is; money on a summary record (Basic Audio, Audio-Visual) counts in proportion to the
    usages of the lines pointing at it: AllocatedNetRevenue/AllocatedUsages where given, else
    NetRevenue/Usages.
    """
    summaries, line_usages = {}, defaultdict(int)
    units, revenue, lines = 0, defaultdict(Decimal), 0
    usage = None
    for record in records(text, fallback):
        kind = record["RecordType"]
        if kind.startswith("SY"):
            currency = record.get("Currency") or record.get("CurrencyOfReporting")
            if record.get("AllocatedNetRevenue") and record.get("AllocatedUsages"):
                money = (Decimal(record["AllocatedNetRevenue"]), int(record["AllocatedUsages"]))
            else:
                usages = record.get("Usages") or record.get("TotalUsages")
                money = (Decimal(record["NetRevenue"]), int(usages))
            summaries.setdefault(record["SummaryRecordId"], (currency, money))
        elif kind.startswith(("SU", "SR")) and kind not in ("SRHE", "SRFO"):
            lines += 1
            usages = record.get("NumberOfStreams") or record.get("Usages") or record.get("Downloads")
            count = int(usages) - int(record.get("Returns") or 0)
            units += count
            currency, _ = summaries[record["SummaryRecordId"]]
            if record.get("NetRevenue"):
                usage = [currency, Decimal(record["NetRevenue"]), None]
                revenue[currency] += usage[1]
            else:
                usage = None
                line_usages[record["SummaryRecordId"]] += count
        elif kind.startswith("LI") and usage is not None:
            if usage[2] is None:  # LI records replace the usage record's own NetRevenue
                revenue[usage[0]] -= usage[1]
                usage[2] = Decimal(0)
            revenue[usage[0]] += Decimal(record["AllocatedNetRevenue"])
    for key, count in line_usages.items():
        currency, (money, total) = summaries[key]
        share = Fraction(money) * count / total
        assert share.denominator in (1, 2, 4, 5, 8, 10, 20, 25, 50, 100), "pick figures that divide exactly"
        revenue[currency] += Decimal(share.numerator) / Decimal(share.denominator)
    return {"units": units, "revenue": dict(revenue), "lines": lines}


def totals(rows: list[tuple]) -> dict:
    revenue = defaultdict(Decimal)
    for row in rows:
        revenue[row[10]] += Decimal(row[9])
    return {"units": sum(int(row[8]) for row in rows), "revenue": dict(revenue), "lines": len(rows)}


def test_basic_audio_by_heading_rows_shares_summary_revenue_exactly():
    text = read_text(TIDAL)
    rows, problems, stats = parse_text(text)
    assert problems == [] and stats.warnings == []
    assert totals(rows) == expected_totals(text)
    assert totals(rows)["revenue"] == {"NOK": Decimal("10.00"), "EUR": Decimal("0.9"), "GBP": Decimal("2.97")}
    assert stats.detail == "DDEX DSR BasicAudioProfile 1.2"
    assert stats.declared["revenue"] == {"NOK": "10", "EUR": "0.9", "GBP": "2.97"}
    assert (
        stats.declared["units"] == "706"
        and stats.declared["summary_records"] == 3 == stats.declared["blocks"] + 1
    )
    assert stats.structural + len(rows) == stats.lines == 29
    by_line = {row[0]: dict(zip(CLEAN_COLUMNS, row, strict=True)) for row in rows}
    # 10.00 NOK over three single streams: the 16th-place remainder goes to one line, in file order.
    assert [by_line[n]["revenue"] for n in (19, 20, 27)] == [
        "3.3333333333333333",
        "3.3333333333333334",
        "3.3333333333333333",
    ]
    # A rights controller's share (AllocatedNetRevenue 0.9 over AllocatedUsages 700).
    assert [by_line[n]["revenue"] for n in (21, 28)] == ["0.6428571428571429", "0.2571428571428571"]
    assert by_line[20] | {} == {
        "line_number": 20,
        "period": "2026-09",
        "dsp": "Tidal",
        "artist": "Aurora Lane, Kid Frost",  # multi-value cell
        "isrc": "GBAYE2600002",  # namespaced id
        "upc": "5056789012345",
        "title": "Polar Night | Reprise",  # escaped pipe
        "territory": "NO",
        "units": "1",
        "revenue": "3.3333333333333334",
        "currency": "NOK",
        "sale_type": "stream",
        "use_type": "OnDemandStream",
        "commercial_model": "SubscriptionModel",
        "release": "Northern Lights",
    }
    # A release download (no resource) and a sub-release download (its one resource).
    assert (by_line[22]["isrc"], by_line[22]["title"], by_line[22]["sale_type"]) == ("", "", "download")
    assert (by_line[23]["isrc"], by_line[23]["units"], by_line[23]["revenue"]) == (
        "GBAYE2600002",
        "2",
        "1.98",
    )
    assert by_line[27]["upc"] == "0602445566778"


def test_basic_audio_1_3_with_the_current_cell_names():
    # Part 8 (1.4) names the cells ResourceISRC, ReleaseICPN, TotalUsages, CurrencyOfReporting …
    text = read_text(SPOTIFY)
    rows, problems, stats = parse_text(text)
    assert problems == [] and stats.warnings == []
    assert totals(rows) == expected_totals(text)
    assert totals(rows) == {
        "units": 1600,
        "revenue": {"USD": Decimal("3.70"), "EUR": Decimal("0.6")},
        "lines": 5,
    }
    assert stats.detail == "DDEX DSR BasicAudioProfile 1.3"
    assert rows[0][3:7] == ("Aurora Lane", "GBAYE2600001", "5056789012345", "Northern Lights")


def test_basic_audio_without_heading_rows_reads_the_published_order_and_crlf():
    raw = (FIXTURES / DEEZER).read_bytes()
    assert b"\r\n" in raw and b"\n#" not in raw
    text = raw.decode("utf-8")
    rows, problems, stats = parse_text(text)
    assert problems == [] and stats.warnings == []
    assert totals(rows) == expected_totals(text, BASIC_AUDIO_1_1)
    assert totals(rows) == {"units": 7, "revenue": {"EUR": Decimal("0.07")}, "lines": 2}
    assert [row[3] for row in rows] == ["Konté", "Konté"]


def test_audio_visual_profile():
    text = read_text(VOD)
    rows, problems, stats = parse_text(text)
    assert problems == [] and stats.warnings == []
    assert (
        totals(rows) == expected_totals(text) == {"units": 4, "revenue": {"EUR": Decimal("7.00")}, "lines": 2}
    )
    assert stats.detail == "DDEX DSR AudioVisualProfile 1.1"
    # A film has no ISRC; the display artist comes from the release record.
    assert rows[0][3:7] == ("Mara Voss", "", "4006381333931", "Harbour Lights")


def test_single_record_block_variant():
    text = read_text(APPLE_SRB)
    rows, problems, stats = parse_text(text)
    assert problems == [] and stats.warnings == []
    assert totals(rows) == expected_totals(text) == {"units": 9, "revenue": {"JPY": Decimal(253)}, "lines": 3}
    assert stats.detail == "DDEX DSR BasicAudioProfileSRB 1.2"
    assert [row[9] for row in rows] == ["62.5", "37.5", "153"]
    assert {row[5] for row in rows} == {"5056789012345"} and rows[0][14] == "Northern Lights"


def test_ugc_real_sample_takes_licensor_revenue_per_transaction():
    text = read_text(YOUTUBE)
    rows, problems, stats = parse_text(text)
    assert problems == [] and stats.warnings == []
    assert totals(rows) == expected_totals(text)
    assert totals(rows) == {"units": 10210, "revenue": {"USD": Decimal("1.16")}, "lines": 6}
    assert stats.detail == "DDEX DSR UGCProfile 1.0"
    assert {row[7] for row in rows} == {"IS"} and {row[13] for row in rows} == {"AdvertisementSupportedModel"}
    assert stats.structural + len(rows) == stats.lines == 35


def test_ugc_summary_usages_count_the_service_not_the_file():
    # One summary record per id: the lines carry their own money, so the summary's service-wide
    # usages are not compared with theirs.
    kept = [
        line
        for line in read_text(YOUTUBE).splitlines(keepends=True)
        if not line.startswith("SY02.01") or "\tPUB_2\t" in line
    ]
    text = "".join(kept)
    text = text.replace("FOOT\t35\t35\t4\t3\t3", "FOOT\t32\t32\t1\t3\t3")
    rows, problems, stats = parse_text(text)
    assert problems == [] and stats.warnings == []
    assert totals(rows) == expected_totals(text) and len(rows) == 6
    assert stats.declared["revenue"] == {}


def test_read_through_open_text_with_bom_and_crlf():
    raw = b"\xef\xbb\xbf" + (FIXTURES / TIDAL).read_bytes().replace(b"\n", b"\r\n")
    lines = open_text(io.BytesIO(raw))
    first = [next(lines) for _ in range(3)]
    assert looks_like_dsr(first)
    stats = Stats()
    rows = [item for item in parse_dsr(itertools.chain(first, lines), stats) if not isinstance(item, Problem)]
    assert rows == parse_text(read_text(TIDAL))[0] and stats.warnings == []


def test_ugc_real_sample_with_a_wrong_line_count_imports_with_a_warning():
    text = read_text(YOUTUBE2)
    rows, problems, stats = parse_text(text)
    assert problems == []
    assert totals(rows) == expected_totals(text)
    assert totals(rows) == {"units": 10210, "revenue": {"USD": Decimal("3.16")}, "lines": 6}
    assert "FOOT declares 35 lines in the file but the file has 34" in stats.warnings
    assert stats.declared["lines"] == 35


def test_multi_file_message_each_part_carries_its_share():
    parts = [read_text(QOBUZ.format(n)) for n in (1, 2)]
    results = [parse_text(text) for text in parts]
    assert all(problems == [] and stats.warnings == [] for _, problems, stats in results)
    assert [stats.detail for _, _, stats in results] == [
        "DDEX DSR BasicAudioProfile 1.2, file 1 of 2",
        "DDEX DSR BasicAudioProfile 1.2, file 2 of 2",
    ]
    assert [totals(rows) for rows, _, _ in results] == [expected_totals(text) for text in parts]
    assert [totals(rows)["revenue"] for rows, _, _ in results] == [{"USD": Decimal(6)}, {"USD": Decimal(2)}]
    assert sum(Decimal(row[9]) for rows, _, _ in results for row in rows) == Decimal("8.00")
    # The summaries are the message's: declared as its totals, not as each part's.
    assert all(stats.declared["message_revenue"] == {"USD": "8"} for _, _, stats in results)
    assert not any("revenue" in stats.declared for _, _, stats in results)


def test_parts_of_a_message_concatenated_into_one_upload_are_refused():
    text = read_text(QOBUZ.format(1)) + read_text(QOBUZ.format(2))
    _, problems, _ = parse_text(text)
    assert problems == [
        Problem(
            11, "a second HEAD record: upload each file of a multi-file DSR message on its own", fatal=True
        )
    ]


def test_truncated_file_fails_with_that_reason():
    lines = read_text(TIDAL).splitlines(keepends=True)
    _, problems, stats = parse_text("".join(lines[:-5]))
    assert problems[-1] == Problem(25, "the DSR file ends without a FOOT record: truncated?", fatal=True)
    assert stats.lines == 24


def test_columns_are_read_by_name_not_position():
    swapped = []
    for line in read_text(TIDAL).splitlines(keepends=True):
        cells = line.rstrip("\n").split("\t")
        if cells[0] in ("SU02", "#SU02"):
            cells[2], cells[7] = cells[7], cells[2]  # SummaryRecordId <-> NumberOfStreams
        swapped.append("\t".join(cells) + "\n")
    assert parse_text("".join(swapped))[0] == parse_text(read_text(TIDAL))[0]


def test_summary_usages_that_do_not_match_the_lines_are_a_warning():
    text = read_text(TIDAL).replace(
        "OnDemandStream\tNO\tTidalHiFi\t3\t", "OnDemandStream\tNO\tTidalHiFi\t4\t"
    )
    rows, problems, stats = parse_text(text)
    assert problems == []
    assert stats.warnings == [
        "summary record 'S1' (line 11) declares 4 usages but its usage lines add up to 3"
    ]
    # Each stream is worth a quarter of the summary's 10.00 NOK.
    assert [row[9] for row in rows if row[10] == "NOK"] == ["2.5", "2.5", "2.5"]


def test_foot_counts_are_checked():
    text = read_text(TIDAL).replace("FOOT\t29\t29\t3\t2\t2", "FOOT\t30\t29\t4\t1\t2")
    _, problems, stats = parse_text(text)
    assert problems == []
    assert stats.warnings == [
        "FOOT declares 30 lines in the file but the file has 29",
        "FOOT declares 4 summary records but the file has 3",
        "FOOT declares 1 blocks in the file but the file has 2",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("T7\t\tR1\ttrue\t200", "T7\t\tR1\ttrue\t2x0", [Problem(28, "usages '2x0' is not a whole number")]),
        ("T6\t\tR1", "T6\t\tR9", [Problem(27, "usage of resource 'R9', not described in block 'B2'")]),
        ("\tS1\tT6", "\tS9\tT6", [Problem(27, "usage of an unknown summary record 'S9'")]),
    ],
)
def test_invalid_values_reject_their_lines_with_the_reason(old, new, expected):
    text = read_text(TIDAL)
    assert old in text
    rows, problems, stats = parse_text(text.replace(old, new))
    assert problems == expected
    assert stats.structural + len(rows) + len(problems) == stats.lines


@pytest.mark.parametrize(
    ("old", "new", "column", "value", "warning"),
    [
        (
            "GBAYE2600001\tNorthern",
            "GBAYE26\tNorthern",
            "isrc",
            "",
            "ISRC 'GBAYE26' is not a valid ISRC: the line is kept without it on 2 line(s)",
        ),
        (
            "NonInteractiveStream\tSE",
            "NonInteractiveStream\tN/A",
            "territory",
            "ZZ",
            "territory 'N/A' is not an ISO 3166 country: kept as unknown (ZZ) on 2 line(s)",
        ),
        ("\tAurora Lane\t", "\t\t", "artist", "", None),
    ],
)
def test_a_line_is_never_rejected_for_its_metadata(old, new, column, value, warning):
    text = read_text(TIDAL)
    assert old in text
    expected_rows, _, _ = parse_text(text)
    rows, problems, stats = parse_text(text.replace(old, new))
    assert problems == []
    assert len(rows) == len(expected_rows)
    at = CLEAN_COLUMNS.index(column)
    changed = [row for row, before in zip(rows, expected_rows, strict=True) if row != before]
    assert changed and all(row[at] == value for row in changed)
    money = CLEAN_COLUMNS.index("revenue")
    assert [row[money] for row in rows] == [row[money] for row in expected_rows]
    if warning:
        assert warning in stats.warnings


def test_a_three_letter_territory_is_read_as_its_country():
    rows, problems, _ = parse_text(
        read_text(TIDAL).replace("NonInteractiveStream\tSE", "NonInteractiveStream\tSWE")
    )
    assert problems == [] and {row[CLEAN_COLUMNS.index("territory")] for row in rows} >= {"SE"}


def test_a_rejected_usage_line_carries_its_licensor_money():
    text = read_text(YOUTUBE).replace(
        "SU03.01\t2\tU1\t1\tA726198037646795\t2045", "SU03.01\t2\tU1\t1\tA726198037646795\tmany"
    )
    rows, problems, stats = parse_text(text)
    # Its LI record (line 23, AllocatedNetRevenue 1.15) is its money, not a second rejected line.
    assert problems == [Problem(22, "usages 'many' is not a whole number")]
    assert (problems[0].amount, problems[0].currency) == ("1.15", "USD")
    assert len(rows) == 5
    assert stats.structural + len(rows) + len(problems) == stats.lines


def test_amounts_keep_every_digit_the_file_has():
    # 28 significant digits, 26 decimals: more than any NUMERIC(30, 16) would hold.
    text = read_text(YOUTUBE).replace(
        "PerformingRight\t1.15\t0.0", "PerformingRight\t1.15000000000000000000000001\t0.0"
    )
    rows, problems, _ = parse_text(text)
    assert problems == []
    revenue = [Decimal(row[CLEAN_COLUMNS.index("revenue")]) for row in rows]
    assert "1.15000000000000000000000001" in [row[CLEAN_COLUMNS.index("revenue")] for row in rows]
    base, _, _ = parse_text(read_text(YOUTUBE))
    with localcontext(prec=100):
        assert sum(revenue) - sum(Decimal(row[CLEAN_COLUMNS.index("revenue")]) for row in base) == Decimal(
            "1E-26"
        )


def test_summary_money_with_more_than_16_decimals_is_shared_to_the_last_digit():
    money = "10.000000000000000000000000003"
    rows, problems, _ = parse_text(read_text(TIDAL).replace("NOK\t10.00", f"NOK\t{money}"))
    assert problems == []
    shares = [
        Decimal(row[CLEAN_COLUMNS.index("revenue")])
        for row in rows
        if row[CLEAN_COLUMNS.index("currency")] == "NOK"
    ]
    with localcontext(prec=100):  # the default 28 digits would round the sum
        assert sum(shares) == Decimal(money)


def test_a_file_that_is_not_dsr_is_refused():
    assert looks_like_dsr(["HEAD\tdsrf/3.0\tBasicAudioProfile"])
    assert looks_like_dsr(["\ufeff# a comment\n", "#HEAD\tMessageVersion\n"])
    assert looks_like_dsr(["SRHE\tdsrf/3.0\tBasicAudioProfileSRB\n"])
    assert not looks_like_dsr(["period,dsp,artist\n"])
    _, problems, _ = parse_text("SY02\tS1\n")
    assert problems == [Problem(1, "the file does not start with a DSR HEAD record ('SY02')", fatal=True)]
    _, problems, _ = parse_text("HEAD\tdsrf/3.0\tBasicAudioProfile\t1.2\tM\tT\t1\t1\t2026-13-01\n")
    assert problems == [Problem(1, "HEAD UsageStartDate '2026-13-01' is not a date (YYYY-MM-DD)", fatal=True)]


def _big_file(blocks: int):
    yield "HEAD\tdsrf/3.0\tBasicAudioProfile\t1.2\tM\tT\t1\t1\t2026-09-01\t2026-09-30\tP\tSpotify\n"
    yield f"SY02.02\tS1\t\t\tSubscriptionModel\tOnDemandStream\tFR\tPremium\t{blocks * 9}\t1\tEUR\t1234.5678\n"
    for block in range(blocks):
        yield f"AS01.01\t{block}\tR1\tD\tFRXXX26{block % 100000:05d}\tTitle {block}\t\tArtist {block % 50}\n"
        for line in range(9):
            yield f"SU02\t{block}\tS1\tT{line}\t\tR1\ttrue\t1\n"
    yield f"FOOT\t{blocks * 10 + 3}\t{blocks * 10 + 3}\t1\t{blocks}\t{blocks}\n"


def test_memory_stays_bounded_while_streaming():
    stats = Stats()
    tracemalloc.start()
    revenue = Decimal(0)
    for item in parse_dsr(_big_file(5_000), stats):
        revenue += Decimal(item[9])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert stats.lines == 50_003 and stats.warnings == []
    assert revenue == Decimal("1234.5678")
    assert peak < 5_000_000
