"""A delimited report's plain lines, cleaned a batch at a time column by column
(`delimited._PlainLines`), give exactly what cleaning each line on its own gives: the same rows,
problems (reason, amount, currency, code), warnings in the same order, counts and declared totals —
on every real report in ../shared/realdata/statements (skipped when absent) and on generated files
whose quirks fall in the middle of a batch, across its edges or fill whole batches."""

import io
from pathlib import Path

import pytest

from statements.cleaners import delimited
from statements.cleaners.base import Problem, Stats
from statements.cleaners.clicknclear import looks_like_clicknclear
from statements.cleaners.dsr import looks_like_dsr
from statements.cleaners.profiles import builtin_profiles
from statements.cleaners.text import MAX_LINE, open_text

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "statements"
REAL_FILES = sorted(f"{p.parent.name}/{p.name}" for p in REALDATA.glob("set*/*"))
BATCH = delimited.BATCH


def cleaned(content: bytes, name: str, *, columnar: bool) -> tuple[list, dict]:
    """Every item the delimited cleaner gives for a file (a Problem with its amount, currency
    and code), and its stats."""
    stats = Stats()
    items = delimited.parse_delimited(
        open_text(io.BytesIO(content)), stats, profiles=builtin_profiles(), file_name=name, columnar=columnar
    )
    results = [
        (item, item.amount, item.currency, item.text and item.text.code, item.text and item.text.params)
        if type(item) is Problem
        else item
        for item in items
    ]
    return results, vars(stats)


def assert_same(content: bytes, name: str = "report.csv") -> list:
    per_line = cleaned(content, name, columnar=False)
    assert cleaned(content, name, columnar=True) == per_line
    return per_line[0]


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent")
@pytest.mark.parametrize("path", REAL_FILES)
def test_real_report_batches_equal_lines(path):
    content = (REALDATA / path).read_bytes()
    head = list(open_text(io.BytesIO(content[: 1 << 16])))[:20]
    if looks_like_dsr(head) or looks_like_clicknclear(head):
        pytest.skip("not a delimited report")
    # The real files are short: repeated, their lines fill several batches.
    lines = content.splitlines(keepends=True)
    header_end = min(len(lines), 60)
    repeated = b"".join(lines[:header_end]) + b"".join(lines[header_end:]) * max(
        1, 3 * BATCH // max(1, len(lines))
    )
    assert_same(content, Path(path).name)
    assert_same(repeated, Path(path).name)


DISTROKID = (
    "Reporting Date\tSale Month\tStore\tArtist\tTitle\tISRC\tUPC\tQuantity\tTeam Percentage\tSong/Album\t"
    "Country of Sale\tSongwriter Royalties Withheld\tEarnings (USD)\r\n"
)
SYMPHONIC = (
    "Reporting Period,Label,Release Artists,UPC Code,ISRC Code,Track Artists,"
    "Digital Service Provider,Activity Period,Territory,Sale or Void,Count,Royalty ($US)\n"
)


def distrokid_line(n: int, **changed: str) -> str:
    cells = {
        "date": "2026-10-02",
        "period": "2026-08",
        "store": ("Spotify", "Apple Music", "TikTok")[n % 3],
        "artist": f"Artist {n % 7}",
        "title": f"Song {n % 11}",
        "isrc": f"GBAYE26{n % 1000:05d}",
        "upc": f"5056789{n % 100:05d}",
        "units": str(n % 9 + 1),
        "team": "100",
        "kind": "Album" if n % 5 == 0 else "Song",
        "country": ("US", "IT", "GB")[n % 3],
        "withheld": "0",
        "earnings": f"{n / 1e7:.8f}",
    } | changed
    return "\t".join(cells.values()) + "\r\n"


def distrokid(count: int, odd: dict[int, dict[str, str]] = {}, raw: dict[int, str] = {}) -> bytes:  # noqa: B006
    """A DistroKid TSV of `count` lines; line n (0-based) with `odd[n]`'s cells, or `raw[n]`."""
    body = (raw.get(n) or distrokid_line(n, **odd.get(n, {})) for n in range(count))
    return (DISTROKID + "".join(body)).encode()


EDGE = BATCH - 2  # a quirk near a batch's end, so that it reaches into the next one
GENERATED = {
    "plain": distrokid(3 * BATCH + 17),
    "no final line break": distrokid(BATCH + 3)[:-2],
    "a quoted field spanning lines across a batch edge": distrokid(
        2 * BATCH, raw={EDGE: distrokid_line(EDGE, title='"Two\r\nlines\r\nof title"')}
    ),
    "a quote in the middle": distrokid(2 * BATCH, odd={300: {"artist": '"The ""Best"" Band"'}}),
    "rejected lines and totals": distrokid(
        2 * BATCH,
        odd={
            5: {"period": "someday", "earnings": "1.5"},
            BATCH + 1: {"units": "three"},
            BATCH + 2: {"units": "1.0"},
            BATCH + 3: {"earnings": "2,5"},
            BATCH + 4: {"store": ""},
            BATCH + 5: {"earnings": "1e-3"},
            BATCH + 6: {"units": "-2", "earnings": "-0.50"},
            BATCH + 7: {"period": "Total", "earnings": "9.99"},
        },
    ),
    "unknown territories and dropped codes": distrokid(
        3 * BATCH,
        odd={
            10: {"country": "Atlantis"},
            11: {"country": "N/A"},
            12: {"isrc": "not-an-isrc"},
            BATCH + 1: {"country": "ROM"},
            BATCH + 2: {"upc": "1,91774E+11"},
            BATCH + 3: {"country": "Atlantis"},
        }
        | {n: {"country": "Narnia"} for n in range(2 * BATCH, 3 * BATCH)},
    ),
    # Each in a batch of its own, so that no other quirk sends that batch line by line.
    "text to tidy": distrokid(
        6 * BATCH,
        odd={
            3: {"title": "Song "},
            BATCH + 4: {"artist": " Spaced", "title": " Song"},
            2 * BATCH + 5: {"title": "No\u00a0break\x07bell"},
            3 * BATCH + 6: {"title": "x" * 501},
            4 * BATCH + 1: {"title": "Kont\u0065\u0301"},
            5 * BATCH + 1: {"title": "Two  spaces inside", "artist": "x" * 500},
        },
    ),
    "odd numbers in whole batches": distrokid(
        2 * BATCH, odd={n: {"units": "1.0", "earnings": f"{n},5"} for n in range(2 * BATCH)}
    ),
    "blank and short lines and a trailer": distrokid(BATCH + 5, raw={7: "\r\n", 8: "a\tb\r\n"})
    + b"Label Net: 566.67\r\n** All values are in US Dollars **\r\n",
    "a line break character inside a line": distrokid(
        BATCH, odd={9: {"title": "A\x1cB"}, 10: {"title": "C\x85D"}}
    ),
    "the header again": distrokid(BATCH, raw={100: DISTROKID}),
    "lone carriage returns": distrokid(BATCH + 1).replace(b"\r\n", b"\r"),
}


@pytest.mark.parametrize("case", GENERATED)
def test_generated_batches_equal_lines(case):
    assert_same(GENERATED[case], "distrokid.tsv")


def symphonic(count: int) -> bytes:
    territories = ("ITA", "USA", "ROM", "N/A", "XYZ")
    lines = (
        f"JUN-25,Lanterna,Artist {n % 3},50567890{n % 100:04d},GBAYE25{n % 1000:05d},"
        f"{'' if n % 4 == 0 else 'Track Artist'},Spotify,June 2025,{territories[n % 5]},"
        f"{'Void' if n % 50 == 0 else 'Sale'},{n % 7},{n / 1e4:.4f}\n"
        for n in range(count)
    )
    return (SYMPHONIC + "".join(lines)).encode()


def test_voids_fallbacks_and_variant_territories_equal_lines():
    """Symphonic: reversals, release-level rows reading the release artists, alpha-3 codes."""
    assert_same(symphonic(2 * BATCH + 1), "symphonic.csv")
    assert_same(symphonic(2 * BATCH + 1).replace(b"Void", b"Sale"), "symphonic.csv")


def test_a_line_too_long_stops_at_its_line_in_both():
    content = distrokid(BATCH + 5) + b"x" * (MAX_LINE + 2) + b"\r\n" + distrokid_line(1).encode()
    items = assert_same(content, "distrokid.tsv")
    assert items[-1][0].fatal and items[-1][0].line == BATCH + 7


def test_plain_lines_come_as_batches():
    """The batches do run: a plain file's rows come in lists of BATCH rows."""
    stats = Stats()
    items = list(
        delimited.parse_delimited(
            open_text(io.BytesIO(distrokid(2 * BATCH))), stats, profiles=builtin_profiles(), blocks=True
        )
    )
    assert [len(item) for item in items] == [BATCH, BATCH]
    assert items[1][0][0] == BATCH + 2  # physical line numbers
