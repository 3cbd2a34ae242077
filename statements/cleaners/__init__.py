"""The sales-file cleaners, one module per format family: `dsr` (DDEX DSR flat files),
`clicknclear` (ClicknClear's headerless, record-typed report) and `delimited` (CSV/TSV reports read
through import profiles), all over `text` (decoding).

`parse` is the one entry point: it picks the family from the first lines (or the profile the user
asked for) and returns normalised rows (`base.CLEAN_COLUMNS`) and problems, lazily, in file order.
"""

from collections.abc import Iterator, Sequence
from itertools import chain, islice
from typing import BinaryIO

from statements.cleaners import workbook
from statements.cleaners.base import Problem, Row, Stats
from statements.cleaners.clicknclear import looks_like_clicknclear, parse_clicknclear
from statements.cleaners.delimited import parse_delimited
from statements.cleaners.dsr import looks_like_dsr, parse_dsr
from statements.cleaners.profiles import ProfileSpec
from statements.cleaners.text import LineTooLong, failing, open_text, replayed
from statements.texts import fatal

DDEX_DSR = "ddex_dsr"
CLICKNCLEAR = "clicknclear"
# Formats read by their own cleaner, not an import profile: a sales file may ask for them by name.
READERS = (DDEX_DSR, CLICKNCLEAR)
# Lines looked at to recognise a DSR file: its HEAD record comes after at most a few comments.
DETECT_LINES = 20


def parse(
    stream: BinaryIO,
    *,
    profiles: Sequence[ProfileSpec] = (),
    profile: str | None = None,
    file_name: str = "",
    revenue_basis: str = "",
    default_bases: dict[str, str] | None = None,
    blocks: bool = False,
) -> tuple[str | None, Iterator[Row | list[Row] | Problem], Stats]:
    """(format, rows and problems, stats filled while they are consumed) of a binary stream.

        `format` is "ddex_dsr", "clicknclear" or the slug of the import profile that matched (None when nothing
        did: then the first item is a fatal Problem saying why). `profile` skips detection; `revenue_basis`
    (blank: the one `default_bases`, see `dsr.bases_by_profile`, gives the file's DSR profile) is the
    DSR income column (`dsr.BASES`). With `blocks`, a delimited report's batch of plain lines
    comes as one list of rows.
    """
    magic = stream.read(4)
    if magic == workbook.ZIP_MAGIC:
        stream = workbook.whole(magic, stream)
        members = workbook.archive_members(stream)
        if members is not None:
            options = {"profiles": profiles, "revenue_basis": revenue_basis, "default_bases": default_bases}
            return _from_archive(stream, members, profile=profile, **options)
    else:
        stream = replayed(magic, stream)
    stats = Stats()
    lines = open_text(stream)
    head: list[str] = []
    try:
        for line in islice(lines, DETECT_LINES):
            head.append(line)
    except LineTooLong as exc:
        # The format is told by the lines before it; the parser then fails the file at that line.
        lines = failing(exc)
    lines = chain(head, lines)
    if profile == DDEX_DSR or (profile is None and looks_like_dsr(head)):
        return DDEX_DSR, parse_dsr(lines, stats, revenue_basis, default_bases), stats
    if profile == CLICKNCLEAR or (profile is None and looks_like_clicknclear(head)):
        return CLICKNCLEAR, parse_clicknclear(lines, stats), stats
    # The delimited parser picks its profile (names it in stats.detail) when it is called.
    results = parse_delimited(
        lines, stats, profiles=profiles, forced=profile, file_name=file_name, blocks=blocks
    )
    return stats.detail or None, results, stats


def _from_archive(
    data: BinaryIO, members: list[str], **options
) -> tuple[str | None, Iterator[Row | Problem], Stats]:
    """A zip archive (a distributor's statement bundle: the royalty lines beside lookup tables) is
    read as the first of its reports that a reader recognises; none recognised is a fatal problem
    naming what the archive holds."""
    for name in members:
        found, results, stats = parse(
            workbook.archive_member(data, name), file_name=name.rsplit("/", 1)[-1], **options
        )
        if found is not None:
            return found, results, stats
    stats = Stats()
    shown = ", ".join(members[:10]) or "-"
    return None, iter([fatal(1, "archive_unknown", members=shown)]), stats
