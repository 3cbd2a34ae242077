"""The sales-file cleaners: one entry point, `parse`, that picks the format family and returns
normalised rows (`base.CLEAN_COLUMNS`) and problems, lazily, in file order."""

from collections.abc import Iterator, Sequence
from typing import BinaryIO

from statements.cleaners.base import Problem, Row, Stats

DDEX_DSR = "ddex_dsr"


def parse(
    stream: BinaryIO, *, profiles: Sequence = (), profile: str | None = None, file_name: str = ""
) -> tuple[str | None, Iterator[Row | Problem], Stats]:
    """(format, rows and problems, stats filled while they are consumed) of a binary stream."""
    from statements import cleaning

    return cleaning.parse(stream)
