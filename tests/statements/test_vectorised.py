"""The set-based import (statements.vectorised) gives what the Python cleaner gives: the same
lines, rejected lines (number and reason), warnings, totals, reconciliation and normalised CSV —
on every real report in ../shared/realdata/statements (skipped when absent) and on generated files
with and without quirks. Files with a quirk must fall back to the Python cleaner."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from project import storage
from statements import pipeline, services
from statements.cleaners.base import CLEAN_COLUMNS
from statements.models import SalesLine

pytestmark = pytest.mark.django_db
REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "statements"
REAL_FILES = sorted(f"{p.parent.name}/{p.name}" for p in REALDATA.glob("set*/*"))
FINDINGS = (
    "status",
    "failure_reason",
    "format",
    "detail",
    "lines_read",
    "lines_valid",
    "lines_rejected",
    "warnings",
    "declared",
    "totals",
    "reconciliation",
)
DISTROKID = (
    "Reporting Date\tSale Month\tStore\tArtist\tTitle\tISRC\tUPC\tQuantity\tTeam Percentage\tSong/Album\t"
    "Country of Sale\tSongwriter Royalties Withheld\tEarnings (USD)\r\n"
)


def distrokid(lines: list[str]) -> bytes:
    return (DISTROKID + "".join(line + "\r\n" for line in lines)).encode()


def line(
    period="2026-08", store="Spotify", artist="Artist 1", title="Song 1", isrc="GBAYE2600001",
    upc="505678900001", units="3", kind="Song", country="US", earnings="0.00789993",
) -> str:  # fmt: skip
    return "\t".join(
        ("2026-10-02", period, store, artist, title, isrc, upc, units, "100", kind, country, "0", earnings)
    )


PLAIN = distrokid([line(units=str(n % 7 + 1), earnings=f"{n / 1e6:.8f}") for n in range(300)])
GENERATED = {
    "plain": PLAIN,
    "no final line break": PLAIN.rstrip(b"\r\n"),
    "utf-8 names and a BOM": b"\xef\xbb\xbf"
    + distrokid([line(artist="Kont\u00e9", title="\u00c0 la fa\u00e7on"), line(artist="\u0411\u0438")]),
    "rejected lines": distrokid(
        [
            line(),
            line(period="someday", earnings="1.5"),
            line(units="three"),
            line(units="1.0"),
            line(earnings="abc"),
            line(earnings="2,5"),
            line(store="", earnings="7"),
            line(period="", units="x"),
            line(earnings="1e-3"),
            line(units="-2", earnings="-0.50"),
        ]
    ),
    "unknown and variant territories": distrokid(
        [line(country=c) for c in ("N/A", "ROM", "UK", "Atlantis", "N/A ", "Worldwide", "ITA", "Italy")]
        + [line(country="Atlantis", period="never")]
    ),
    "album rows and many stores": distrokid(
        [
            line(kind=k, store=s)
            for k in ("Song", "Album", "")
            for s in ("Apple Music", "YouTube (Ads)", "TikTok")
        ]
    ),
    "a quote": distrokid([line(title='"Quoted"'), line()]),
    "a totals row": distrokid([line(), "\t".join(["Total", *[""] * 11, "0.1"])]),
    "a blank line": distrokid([line(), "", line()]),
    "an odd ISRC": distrokid([line(isrc="gb-aye-26-00001"), line()]),
    "a leading zero": distrokid([line(units="007"), line()]),
    "a title with spaces": distrokid([line(title=" padded "), line()]),
    "a short row": distrokid([line(), "2026-10-02\t2026-08\tSpotify"]),
    "latin-1 bytes": DISTROKID.encode() + line(artist="Kont\u00e9").encode("cp1252") + b"\r\n",
}
PLAIN_CASES = {
    "plain",
    "no final line break",
    "utf-8 names and a BOM",
    "rejected lines",
    "unknown and variant territories",
    "album rows and many stores",
}


def processed(content: bytes, name: str, *, vectorised: bool, settings, used: list) -> dict:
    settings.STATEMENTS_VECTORISED = vectorised
    sales_file = services.create_sales_file(name=name, user=None)
    default_storage.save(sales_file.upload_key, ContentFile(content))
    sales_file = services.mark_uploaded(sales_file, allow_duplicate=True, reason="both paths")
    staged = []
    original = pipeline._staged

    def spy(*args):
        result = original(*args)
        staged.append(result is not None)
        return result

    pipeline._staged = spy
    try:
        sales_file = pipeline.clean_and_import(sales_file.pk)
    finally:
        pipeline._staged = original
    used.append(any(staged))
    sales_file.refresh_from_db()
    lines = list(
        SalesLine.objects.filter(sales_file=sales_file).order_by("line_number").values_list(*CLEAN_COLUMNS)
    )
    keys = (sales_file.rejected_key, sales_file.cleaned_key)
    files = [storage.read(key) if default_storage.exists(key) else None for key in keys]
    return {"lines": lines, "files": files} | {name: getattr(sales_file, name) for name in FINDINGS}


def both_paths(content: bytes, name: str, settings) -> tuple[dict, dict, bool]:
    used: list[bool] = []
    python = processed(content, name, vectorised=False, settings=settings, used=used)
    sql = processed(content, name, vectorised=True, settings=settings, used=used)
    assert used[0] is False
    return python, sql, used[1]


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent")
@pytest.mark.parametrize("path", REAL_FILES)
def test_real_report_imports_the_same_either_way(path, settings):
    python, sql, _ = both_paths((REALDATA / path).read_bytes(), Path(path).name, settings)
    assert sql == python


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent")
def test_the_real_distrokid_report_is_plain(settings):
    path = REALDATA / "set2" / "trackshift_DistroKid_Test.tsv"
    python, sql, used = both_paths(path.read_bytes(), path.name, settings)
    assert used and sql == python and python["status"] == "PROCESSED"


@pytest.mark.parametrize("case", GENERATED)
def test_generated_file_imports_the_same_either_way(case, settings):
    python, sql, used = both_paths(GENERATED[case], "distrokid.tsv", settings)
    assert sql == python
    assert used == (case in PLAIN_CASES)


def test_rejected_lines_are_found_set_based(settings):
    python, sql, used = both_paths(GENERATED["rejected lines"], "distrokid.tsv", settings)
    assert used and sql == python
    assert python["lines_rejected"] == 5
    assert python["reconciliation"]["USD"]["rejected"] != "0"
