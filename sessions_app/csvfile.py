"""The shipments CSV: `;`-separated (configurable), UTF-8, header row, RFC 4180 quoting."""

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TextIO


def csv_file_name(*, prefix: str, day: date, session_id: int) -> str:
    """`<prefix>_<YYYYMMDD>_<session id>.csv`."""
    return f"{prefix}_{day:%Y%m%d}_{session_id}.csv"


def csv_writer(handle: TextIO, *, separator: str) -> Any:
    """A writer that quotes per RFC 4180 (only when needed, quotes doubled) with CRLF line ends."""
    return csv.writer(handle, delimiter=separator, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def csv_cell(value: object) -> str:
    """Text of one cell: empty for NULL, plain notation for decimals (never 1E+1)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_header(writer: Any, fields: Sequence[str]) -> None:
    writer.writerow(fields)


def write_rows(writer: Any, rows: Iterable[dict], fields: Sequence[str]) -> int:
    """Write one line per row dict (its `fields`, in order); returns how many were written."""
    count = 0
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in fields])
        count += 1
    return count
