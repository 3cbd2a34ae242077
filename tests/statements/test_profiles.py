"""Every built-in import profile against a report written from its layout's public description.

The expected totals are computed here from the files' cells with the csv module and plain Decimal
arithmetic (per layout: where the header is, which cells hold units, revenue and currency, which
rows are totals, payouts or voids) — never by calling the parser.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from statements.cleaners.base import CLEAN_COLUMNS, SALE_TYPES, Problem, Stats
from statements.cleaners.delimited import parse_delimited
from statements.cleaners.profiles import builtin_profiles
from statements.cleaners.text import open_text

PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "statements" / "profiles"


def parse(data: bytes, *, forced: str | None = None, file_name: str = "", profiles=None):
    stats = Stats()
    results = list(
        parse_delimited(
            open_text(io.BytesIO(data)),
            stats,
            profiles=builtin_profiles() if profiles is None else profiles,
            forced=forced,
            file_name=file_name,
        )
    )
    rows = [r for r in results if not isinstance(r, Problem)]
    problems = [r for r in results if isinstance(r, Problem)]
    return rows, problems, stats


def totals_of(rows) -> dict[str, tuple[int, Decimal]]:
    sums: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for row in rows:
        record = dict(zip(CLEAN_COLUMNS, row, strict=True))
        sums[record["currency"]][0] += int(record["units"])
        sums[record["currency"]][1] += Decimal(record["revenue"])
    return {currency: (units, revenue) for currency, (units, revenue) in sums.items()}


@dataclass
class Layout:
    """How to read a sample file by hand."""

    encoding: str
    delimiter: str
    header: int  # 0-based index of the header line
    units: str
    revenue: str
    currency: str  # a column name, or "=XXX" for a currency the file states elsewhere
    decimal_comma: bool = False
    units_fallback: str = ""  # the units column read when the first one is empty
    skip: dict = field(default_factory=dict)  # column → values of rows that are not sales
    void: dict = field(default_factory=dict)  # column → values of reversal rows (negated)


LAYOUTS = {
    "apple_music": (
        "apple_music_2025-05.tsv",
        Layout("utf-8", "\t", 5, "Quantity", "Net Royalty Total", "=AUD"),
    ),
    "apple_music_streams": (
        "apple_music_streams_2025-10.txt",
        Layout("utf-8", "\t", 4, "Quantity", "Net Royalty Total", "=EUR"),
    ),
    "itunes": (
        "itunes_2025-06.txt",
        Layout(
            "utf-8-sig",
            "\t",
            0,
            "Quantity",
            "Extended Partner Share",
            "Partner Share Currency",
            skip={"Start Date": ("Total_Rows", "Total_Amount", "Total_Units")},
            void={"Sales or Return": ("R",)},
        ),
    ),
    "spotify": (
        "spotify_2025-06.csv",
        Layout("utf-8-sig", ",", 2, "Quantity", "Payable", "Payable currency"),
    ),
    "youtube": ("youtube_2025-06.csv", Layout("cp1252", ",", 0, "Owned Views", "Partner Revenue", "=USD")),
    "amazon": ("amazon_2025-06.tsv", Layout("utf-8", "\t", 0, "Stream Count", "Royalty Amount", "Currency")),
    "deezer": (
        "deezer_2025-06.csv",
        Layout("utf-8-sig", ";", 0, "Nb of plays", "Royalties", "=EUR", decimal_comma=True),
    ),
    "tiktok": (
        "tiktok_2025-06.csv",
        Layout(
            "utf-8",
            ",",
            0,
            "video_views",
            "statement_amount",
            "statement_currency",
            skip={"start_date": ("Total",)},
        ),
    ),
    "bandcamp": (
        "bandcamp_2025-06.csv",
        Layout("utf-16", ",", 0, "quantity", "net amount", "currency", skip={"item type": ("payout",)}),
    ),
    "symphonic": (
        "symphonic_2025-06.csv",
        Layout(
            "utf-8",
            ",",
            0,
            "Count",
            "Royalty ($US)",
            "=USD",
            skip={"Sale or Void": ("Total",)},
            void={"Sale or Void": ("Void",)},
        ),
    ),
    "symphonic_full": (
        "symphonic_full_2025-q2.csv",
        Layout("utf-8", ",", 0, "Count", "Royalty ($US)", "=USD", void={"Sale or Void": ("Void",)}),
    ),
    "distrokid": ("distrokid_2025-06.tsv", Layout("utf-8", "\t", 0, "Quantity", "Earnings (USD)", "=USD")),
    "tunecore": ("tunecore_2025-06.csv", Layout("utf-8", ",", 0, "# Units Sold", "Total Earned", "Currency")),
    "cd_baby": ("cd_baby_2025-06.csv", Layout("utf-8", ",", 0, "Quantity", "Net Payable", "=USD")),
    "fuga": (
        "fuga_2025-06.csv",
        Layout(
            "utf-8",
            ",",
            0,
            "Asset Quantity",
            "Reported Royalty",
            "Currency",
            units_fallback="Product Quantity",
        ),
    ),
    "believe": (
        "believe_2025-06.csv",
        Layout("utf-8", ";", 0, "Quantity", "Net Revenue", "Client Payment Currency", decimal_comma=True),
    ),
    "the_orchard": (
        "the_orchard_2025-06.csv",
        Layout(
            "utf-8",
            ",",
            0,
            "QUANTITY",
            "NET SHARE ACCOUNT CURRENCY",
            "ACCOUNT CURRENCY",
            skip={"STATEMENT PERIOD": ("Balance brought forward",)},
        ),
    ),
    "ingrooves": (
        "ingrooves_2025-06.csv",
        Layout(
            "utf-8-sig",
            ",",
            0,
            "Quantity",
            "Net Dollars after Fees",
            "=USD",
            skip={"Sales Classification": ("Total",)},
        ),
    ),
}


def by_hand(name: str, layout: Layout) -> dict[str, tuple[int, Decimal]]:
    text = (PROFILES / name).read_bytes().decode(layout.encoding)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter))
    header = records[layout.header]
    sums: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for cells in records[layout.header + 1 :]:
        if not any(cell.strip() for cell in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        if any(row.get(column) in values for column, values in layout.skip.items()):
            continue
        units, revenue = row[layout.units] or row.get(layout.units_fallback, ""), row[layout.revenue]
        units = units.replace(".", "") if layout.decimal_comma else units.replace(",", "")
        revenue = (
            revenue.replace(".", "").replace(",", ".") if layout.decimal_comma else revenue.replace(",", "")
        )
        units, revenue = int(units), Decimal(revenue)
        if any(row.get(column) in values for column, values in layout.void.items()):
            units, revenue = -abs(units), -abs(revenue)
        currency = layout.currency[1:] if layout.currency.startswith("=") else row[layout.currency]
        sums[currency][0] += units
        sums[currency][1] += revenue
    return {currency: (units, revenue) for currency, (units, revenue) in sums.items()}


@pytest.mark.parametrize("sample", sorted(LAYOUTS))
def test_each_layout_is_detected_and_adds_up_to_its_cells(sample):
    name, layout = LAYOUTS[sample]
    rows, problems, stats = parse((PROFILES / name).read_bytes(), file_name=name)
    assert problems == []
    assert stats.detail == sample.removesuffix("_streams").removesuffix("_full")
    assert totals_of(rows) == by_hand(name, layout)
    # Every physical line is a sales line or structural (header, preamble, blank, totals, payout).
    assert len(rows) + stats.structural == stats.lines
    for row in rows:
        record = dict(zip(CLEAN_COLUMNS, row, strict=True))
        assert record["sale_type"] in SALE_TYPES
        assert len(record["territory"]) == 2 and len(record["currency"]) == 3
        assert len(record["period"]) == 7 and record["dsp"] and record["artist"]


@pytest.mark.parametrize("sample", sorted(LAYOUTS))
def test_a_forced_profile_reads_the_same_rows(sample):
    name, _ = LAYOUTS[sample]
    data = (PROFILES / name).read_bytes()
    assert parse(data, forced=sample.removesuffix("_streams").removesuffix("_full"))[0] == parse(data)[0]


def test_apple_music_streams_keep_the_membership_type_as_commercial_model():
    rows, _, stats = parse((PROFILES / "apple_music_streams_2025-10.txt").read_bytes())
    assert stats.structural == 5
    # The report names no sale type: ours is the profile's default, the source's stays empty.
    assert {(r[11], r[12]) for r in rows} == {("stream", "")}
    assert [(r[1], r[4], r[7], r[9], r[13]) for r in rows] == [
        ("2025-10", "GBXYZ2500001", "DE", "0.103000", "Individual Monthly"),
        ("2025-10", "GBXYZ2500001", "DE", "0.012360", "Individual Monthly"),
        ("2025-10", "GBXYZ2500004", "FR", "0.421400", "Family Monthly"),
        ("2025-10", "GBXYZ2500004", "AT", "0.002250", "Student Monthly"),
    ]


def test_the_issues_distributor_csv_imports_with_voids_and_three_letter_territories():
    rows, _, stats = parse((PROFILES / "symphonic_2025-06.csv").read_bytes())
    assert [(r[1], r[2], r[7], r[8], r[9]) for r in rows] == [
        ("2025-06", "Spotify", "US", "512", "1.7408"),
        ("2025-06", "Spotify", "GB", "3", "0.0101"),
        ("2025-05", "Apple Music", "DE", "1", "0.0049"),
        ("2025-05", "Spotify", "US", "-40", "-0.136"),
        ("2025-06", "Deezer", "FR", "7", "0.0231"),
        # A Void row written with positive figures is a reversal all the same.
        ("2025-06", "iTunes", "CA", "-1", "-0.69"),
        # A release-level row: no track artist and no activity period, so the release artists
        # and the reporting period are read instead.
        ("2025-06", "Bandcamp", "WW", "1", "7.00"),
    ]
    assert rows[-1][3] == "The Quiet Hours"
    # The report's own Total row is not a sale; its figures are the declared totals.
    assert stats.declared == {"totals_rows": 1, "units": "484", "revenue": {"USD": "9.3419"}}


def test_apple_preamble_gives_period_currency_and_dsp_and_nfc_joins_one_artist():
    rows, _, stats = parse((PROFILES / "apple_music_2025-05.tsv").read_bytes())
    assert {(r[1], r[2], r[10]) for r in rows} == {("2025-05", "Apple Music", "AUD")}
    # "Konté" is typed with a combining accent on one line and precomposed on the next.
    assert rows[0][3] == rows[1][3] == "Kont\u00e9"
    assert [r[7] for r in rows] == ["AU", "US", "JP", "KR", "NZ"]
    assert stats.structural == 7  # 4 preamble lines, a blank line, the header, a trailing blank


def test_bandcamp_utf16_payout_rows_are_not_revenue():
    data = (PROFILES / "bandcamp_2025-06.csv").read_bytes()
    assert data.startswith(b"\xff\xfe")
    rows, problems, stats = parse(data)
    assert problems == [] and len(rows) == 3 and stats.structural == 2
    assert [(r[11], r[12]) for r in rows] == [
        ("download", "album"),
        ("download", "track"),
        ("physical", "package"),
    ]


def test_semicolon_decimal_comma_report_reads_thousands_points_and_comma_decimals():
    rows, _, _ = parse((PROFILES / "believe_2025-06.csv").read_bytes())
    assert [(r[8], r[9], r[10]) for r in rows] == [
        ("1523", "4.531", "EUR"),
        ("211", "0.197285", "EUR"),
        ("-1", "-0.8415", "EUR"),
        ("2040", "7.2828", "CHF"),
    ]
    assert [r[7] for r in rows] == ["FR", "DE", "BE", "CH"]


def test_sale_types_map_to_ours_and_keep_the_source_type():
    rows, _, _ = parse((PROFILES / "fuga_2025-06.csv").read_bytes())
    assert [(r[11], r[12], r[13]) for r in rows] == [
        ("stream", "Stream", "Subscription"),
        ("stream", "Stream", "Ad-Supported"),
        ("download", "Download", "Purchase"),
        ("download", "Download", "Purchase"),
    ]
    # The album sale has no asset: its artist and quantity come from the product columns.
    assert (rows[-1][3], rows[-1][8], rows[-1][9]) == ("Mira Vale", "1", "6.993")


def test_totals_and_balance_rows_are_structural():
    orchard, _, orchard_stats = parse((PROFILES / "the_orchard_2025-06.csv").read_bytes())
    assert [r[0] for r in orchard] == [3, 4, 5] and orchard_stats.declared == {}
    itunes, _, itunes_stats = parse((PROFILES / "itunes_2025-06.txt").read_bytes())
    assert len(itunes) == 4 and itunes_stats.structural == 4
    data = b"period,dsp,artist,territory,units,revenue,currency\n2025-06,S,A,IT,3,1.5,EUR\n"
    for total in (
        b"Total,,,,3,1.5,EUR\n",
        b",,,,3,1.5,\n,,Grand total:,,3,1.5,EUR\n",
        b"2025-06,S,TOTAL,IT,3,1.5,EUR\n",
        b"Balance carried forward,,,,,10.00,EUR\n",
        b"Sub-total,3,1.5\n",
    ):
        rows, problems, stats = parse(data + total)
        assert len(rows) == 1 and stats.structural + len(rows) + len(problems) == stats.lines


def test_an_artist_called_like_a_total_is_still_a_sale():
    data = b"period,dsp,artist,territory,units,revenue,currency\n2025-06,S,Total Eclipse,IT,3,1.5,EUR\n"
    rows, problems, _ = parse(data)
    assert problems == [] and rows[0][3] == "Total Eclipse"


def test_unknown_layout_names_the_header_it_saw_and_the_profiles_tried():
    data = b"Some export\n\ninvoice;customer;amount\nF-1;ACME;12,00\n"
    rows, problems, _ = parse(data)
    assert rows == [] and len(problems) == 1 and problems[0].fatal
    assert problems[0].line == 3
    assert "'invoice;customer;amount'" in problems[0].reason
    assert "apple_music" in problems[0].reason and "generic_csv" in problems[0].reason


def test_a_forced_profile_that_does_not_fit_fails_naming_only_it():
    data = (PROFILES / "tunecore_2025-06.csv").read_bytes()
    _, problems, _ = parse(data, forced="symphonic")
    assert problems[0].fatal and "profiles tried: symphonic." in problems[0].reason
    _, problems, _ = parse(data, forced="nope")
    assert problems[0].fatal and "no import profile 'nope'" in problems[0].reason


def test_a_new_profile_reads_a_file_no_built_in_one_knew():
    from statements.cleaners.profiles import ProfileSpec

    data = "Künstler;Titel;Menge;Betrag (EUR)\nKonte\u0301;Lied;1.200;3,50\n".encode()
    assert parse(data)[1][0].fatal
    spec = ProfileSpec.build(
        slug="label_x",
        columns={"artist": ["Künstler"], "title": ["Titel"], "units": ["Menge"], "revenue": ["Betrag"]},
        required=["artist", "units", "revenue"],
        defaults={"dsp": "Label X", "territory": "DE"},
    )
    rows, problems, stats = parse(data, profiles=[*builtin_profiles(), spec], file_name="label-x_2025-06.csv")
    assert problems == [] and stats.detail == "label_x"
    assert rows == [
        (2, "2025-06", "Label X", "Konté", "", "", "Lied", "DE", "1200", "3.50", "EUR", "other", "", "", "")
    ]


def test_rejected_lines_keep_their_physical_line_numbers_and_reasons():
    data = (
        b"Start Date\t06/01/2025\nCurrency\tEUR\n\n"
        b"Storefront Name\tQuantity\tNet Royalty Total\tItem_Artist\n"
        b"France\t3\t0.01\tA\n"
        b"Atlantis\t3\t0.01\tA\n"
        b"France\tmany\t0.01\tA\n"
        b'France\t1\t"0.01\n'
        b'x"\tA\n'
        b"France\t2\tabc\tA\n"
    )
    rows, problems, stats = parse(data)
    # A territory that names no country keeps the line, as unknown (ZZ), with a counted warning.
    assert [(r[0], r[7]) for r in rows] == [(5, "FR"), (6, "ZZ")]
    assert stats.warnings == [
        "territory 'Atlantis' is not an ISO 3166 country: kept as unknown (ZZ) on 1 line(s)"
    ]
    assert problems == [
        Problem(7, "units 'many' is not a whole number"),
        Problem(8, "revenue '0.01\\nx' is not a number"),
        Problem(10, "revenue 'abc' is not a number"),
    ]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("cp1252", b""),
    ],
)
def test_encodings_give_the_same_rows(encoding, bom):
    text = "period;dsp;artist;territory;units;revenue;currency\r\n2025-06;Deezer;Beyoncé;FR;3;0,5;EUR\r\n"
    rows, problems, _ = parse(bom + text.encode(encoding))
    assert problems == []
    assert rows == [
        (2, "2025-06", "Deezer", "Beyoncé", "", "", "", "FR", "3", "0.5", "EUR", "other", "", "", "")
    ]


@pytest.mark.parametrize(
    ("header", "cell", "currency"),
    [("Royalty ($US)", "1.5", "USD"), ("Earnings (USD)", "1.5", "USD"), ("Total_Payable_EUR", "1,5", "EUR")],
)
def test_currency_is_taken_from_the_revenue_header(header, cell, currency):
    data = f"period;dsp;artist;territory;units;{header}\n2025-06;S;A;IT;1;{cell}\n".encode()
    spec = next(spec for spec in builtin_profiles() if spec.slug == "generic_csv")
    generic = type(spec).build(
        slug="g",
        columns={
            **{k: list(v) for k, v in spec.columns.items()},
            "revenue": ["royalty", "earnings", "total_payable"],
        },
        required=["period", "dsp", "artist", "territory", "units", "revenue"],
    )
    rows, problems, _ = parse(data, profiles=[generic])
    assert problems == [] and rows[0][9:11] == ("1.5", currency)


def test_period_comes_from_the_file_name_when_the_report_has_none():
    spec = type(builtin_profiles()[0]).build(
        slug="p",
        columns={"artist": ["a"], "units": ["u"], "revenue": ["r"]},
        required=["artist"],
        defaults={"dsp": "D", "territory": "WW", "currency": "EUR"},
    )
    data = b"a,u,r\nX,1,2\n"
    rows, _, _ = parse(data, profiles=[spec], file_name="statement_202506.csv")
    assert rows[0][1] == "2025-06" and rows[0][7] == "WW"
    _, problems, _ = parse(data, profiles=[spec], file_name="statement.csv")
    assert problems[0].fatal and "gives no period" in problems[0].reason


@pytest.mark.parametrize(
    ("raw", "period"),
    [
        ("2025-06", "2025-06"),
        ("202506", "2025-06"),
        ("2025-06-30", "2025-06"),
        ("06/30/2025", "2025-06"),
        ("06/01/2025 - 06/30/2025", "2025-06"),
        ("June 2025", "2025-06"),
        ("JUN-25", "2025-06"),
        ("Sep 2025", "2025-09"),
        ("6/3/25 10:12am", "2025-06"),
        ("2025-06-01T00:00:00Z", "2025-06"),
        ("JAN-FEB-18", "2018-01"),
        ("Q225", "2025-04"),
        ("Q4 2025", "2025-10"),
        ("2025-Q3", "2025-07"),
    ],
)
def test_period_formats(raw, period):
    data = f"period,dsp,artist,territory,units,revenue,currency\n{raw},S,A,IT,1,1,EUR\n".encode()
    assert parse(data)[0][0][1] == period


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_line_over_4_mib_is_refused_before_it_is_held(encoding):
    from statements.cleaners.text import MAX_LINE, LineTooLong

    fits = ("a" * (MAX_LINE - 1) + "\n").encode(encoding)
    assert sum(1 for _ in open_text(io.BytesIO(fits))) == 1
    with pytest.raises(LineTooLong, match="longer than 4 MiB"):
        list(open_text(io.BytesIO(("a" * (MAX_LINE + 1)).encode(encoding))))
    # Also when its line break comes in the same read as its last bytes.
    with pytest.raises(LineTooLong, match="longer than 4 MiB"):
        list(open_text(io.BytesIO(("a" * (MAX_LINE + 1) + "\nb\n").encode(encoding))))


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("FR", "FR"),
        ("fra", "FR"),
        ("250", "FR"),
        ("United States", "US"),
        ("Korea, Republic of", "KR"),
        ("Cote d'Ivoire", "CI"),
        ("Curacao", "CW"),
        ("St. Lucia", "LC"),
        ("Russia", "RU"),
        ("Palestine", "PS"),
        ("Worldwide", "WW"),
        ("UK", "GB"),
        ("XKX", "XK"),
        ("ROM", "RO"),
        ("EL", "GR"),
        ("ZAR", "CD"),
        ("N/A", "ZZ"),
    ],
)
def test_territories_by_code_or_english_name(raw, code):
    from statements.cleaners.profiles import territory

    assert territory(raw) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Germania", "DE"),
        ("Stati Uniti", "US"),
        ("Regno Unito", "GB"),
        ("Paesi Bassi", "NL"),
        ("Corea del Sud", "KR"),
        ("Deutschland", "DE"),
        ("Österreich", "AT"),
        ("États-Unis", "US"),
        ("Allemagne", "DE"),
        ("Alemania", "DE"),
        ("Estados Unidos", "US"),
        ("Duitsland", "DE"),
        ("Kosovo", "XK"),
    ],
)
def test_territories_by_name_in_the_languages_of_european_reports(raw, code):
    """Names from pycountry's ISO 3166 translations (it, de, fr, es, pt, nl): an Italian
    distributor's report says "Germania"."""
    from statements.cleaners.profiles import territory

    assert territory(raw) == code


@pytest.mark.parametrize("raw", ["Korea", "Virgin Islands", "Bavaria", "XX", "Atlantis", "", "YUG", "SUN"])
def test_ambiguous_or_unknown_territories_are_unknown(raw):
    from statements.cleaners.profiles import territory

    # YUG and SUN were withdrawn with no single successor (ISO 3166-3 YUCS, SUHH).
    assert territory(raw) == "ZZ"


def test_a_recognised_layout_missing_a_needed_value_says_which_and_how_to_fix_it():
    data = b"STATEMENT PERIOD,STORE,TRACK ARTIST,TRACK,QUANTITY,NET SHARE ACCOUNT CURRENCY\nJune 2025,Spotify,A,T,3,0.01\n"
    rows, problems, stats = parse(data)
    assert rows == [] and stats.detail == "the_orchard"
    assert problems[0].fatal and problems[0].line == 1
    assert "import profile 'the_orchard': the report gives no currency" in problems[0].reason


def test_symphonic_full_statement_maps_delivery_and_reads_release_level_rows():
    rows, problems, _ = parse((PROFILES / "symphonic_full_2025-q2.csv").read_bytes())
    assert problems == []
    assert [(r[1], r[2], r[3], r[6], r[7], r[8], r[11], r[12], r[14]) for r in rows] == [
        (
            "2025-04",
            "Spotify",
            "Mira Vale",
            "Border Town",
            "US",
            "2048",
            "stream",
            "Streaming",
            "Border Songs",
        ),
        (
            "2025-05",
            "YouTube",
            "Mira Vale feat. Kont\u00e9",
            "Border Town",
            "BR",
            "15310",
            "stream",
            "Streaming",
            "Border Songs",
        ),
        ("2025-06", "iTunes", "Mira Vale", "", "GB", "3", "download", "Download", "Border Songs"),
        ("2025-06", "iTunes", "Mira Vale", "", "GB", "-1", "download", "Download", "Border Songs"),
        # No territory reported: worldwide.
        ("2025-06", "Amazon", "Mira Vale", "Border Town", "WW", "12", "stream", "Streaming", "Border Songs"),
    ]


def test_a_repeated_header_of_concatenated_reports_is_structural():
    data = (PROFILES / "tunecore_2025-06.csv").read_bytes()
    header, body = data.split(b"\n", 1)
    rows, problems, stats = parse(data + header + b"\n" + body)
    assert problems == [] and len(rows) == 6 and stats.structural == 2


def test_a_summary_table_after_the_sales_is_structural_and_named_in_a_warning():
    """Apple's financial reports may end with a table by country after a blank line (a layout
    described by a public parser of App Store financial reports: `Country Of Sale / Partner Share
    Currency / Quantity / Extended Partner Share`, then one row per country)."""
    data = (PROFILES / "itunes_2025-06.txt").read_bytes()
    plain_rows, plain_problems, _ = parse(data)
    summary = (
        b"\r\nCountry Of Sale\tPartner Share Currency\tQuantity\tExtended Partner Share\r\n"
        b"GB\tGBP\t2\t7.00\r\nDE\tEUR\t1\t0.70\r\n"
    )
    rows, problems, stats = parse(data.rstrip(b"\r\n") + b"\r\n" + summary)
    assert rows == plain_rows and problems == plain_problems
    assert totals_of(rows) == totals_of(plain_rows)
    assert stats.structural + len(rows) + len(problems) == stats.lines
    assert len(stats.warnings) == 1 and "summary table follows the sales" in stats.warnings[0]


def test_a_short_row_that_is_not_a_summary_header_is_still_rejected():
    data = b"period,dsp,artist,territory,units,revenue,currency\n2025-06,S,A,IT,3,1.5,EUR\nIT,EUR\n"
    rows, problems, stats = parse(data)
    assert len(rows) == 1 and [p.line for p in problems] == [3] and stats.warnings == []


# A Bandcamp sales export with a partial refund (layout and rows as in christopher-kirkley/royaltyappv4,
# tests/func/test_refund_error/bandcamp.csv): the refund of the LP gives money back without a
# quantity, and the second row of that refund carries neither.
BANDCAMP_HEADER = (
    "date,paid to,item type,item name,artist,currency,item price,quantity,discount code,sub total,tax,shipping,"
    "ship from country name,transaction fee,fee type,item total,amount you received,bandcamp transaction id,"
    "paypal transaction id,assessed revenue share,collected revenue share,balance of revenue share,"
    "change to payout balance,payout balance,net amount,package,option,item url,sku,catalog number,upc,isrc,"
    "buyer name,buyer email,buyer phone,buyer note,ship to name,ship to street,ship to street 2,ship to city,"
    "ship to state,ship to zip,ship to country,ship to country code,ship date,ship notes,country,country code,"
    "region/state,city,referrer,referrer url"
)
BANDCAMP_REFUNDS = [
    "1/1/20 1:35pm,Bandcamp,package,Amazing,Bonehead,USD,12,1,,12,,4,United States,0.65,credit card,16,0,123,,"
    "1.2,1.2,0,14.15,211.19,10.15,Limited Edition Cassette,,,TEST-01cass,TEST-01,2222222222,,,,,,,,,,,19440,"
    "United States,US,1/7/20,,United States,US,PA,Hatfield,,",
    "1/14/20 7:22pm,Bandcamp,refund,Amazing,Bonehead,USD,8,-1,,-8,,-4,United States,-0.53,paypal,-12,-11.47,"
    "t281131841,,-0.8,-0.8,0,-10.67,182.55,-6.67,Limited Edition Cassette,,,TEST-01cass,TEST-01,2222222222,,,,,"
    ",,,,,,1089,United States,US,,,United States,US,MA,West Springfield,Google search,www.google.com/",
    "1/14/20 7:32pm,Bandcamp,refund,Amazing,Bonehead,USD,9,,,-12,,,United States,-0.38,paypal,-12,-10.62,"
    "t281134968,,-0.9,-0.9,0,-10.72,104.52,-7.72,LP,,,TEST-01lp,TEST-01,602318 136992,,,,,,,,,,,,United States,"
    "US,,Ship Anou Malane,United States,US,CO,Denver,,",
    "1/14/20 7:32pm,Bandcamp,refund,Amazing,Bonehead,USD,9,,,,,,United States,,,,,t281134968,,,,,,,,"
    "Limited Edition Cassette,,,TEST-01cass,TEST-01,602318 137203,,,,,,,,,,,,United States,US,,,United States,"
    "US,CO,Denver,,",
]


def test_a_refund_of_money_without_a_quantity_keeps_its_money_as_zero_units():
    data = ("\n".join([BANDCAMP_HEADER, *BANDCAMP_REFUNDS]) + "\n").encode("utf-16")
    rows, problems, stats = parse(data)
    assert [(r[0], r[8], r[9]) for r in rows] == [(2, "1", "10.15"), (3, "-1", "-6.67"), (4, "0", "-7.72")]
    assert rows[2][5] == "602318136992"  # the UPC as printed, without its space
    assert sum(Decimal(r[9]) for r in rows) == Decimal("10.15") - Decimal("6.67") - Decimal("7.72")
    assert stats.warnings == [
        "no units written beside the amount: counted as 0, the amount is kept on 1 line(s)"
    ]
    # The refund's second row holds no money: nothing is lost by rejecting it, and it says why.
    assert [(p.line, p.text.code, p.amount) for p in problems] == [(5, "units_empty", "")]


def test_a_title_too_long_to_be_one_is_dropped_and_the_line_keeps_its_money():
    essay = "A" * 501
    data = f"period,dsp,artist,title,territory,units,revenue,currency\n2025-06,S,A,{essay},IT,1,2.5,EUR\n".encode()
    rows, problems, stats = parse(data, forced="generic_csv")
    assert problems == [] and [(r[6], r[9]) for r in rows] == [("", "2.5")]
    assert stats.warnings == ["title is longer than 500 characters: the line is kept without it on 1 line(s)"]
