"""An Excel workbook (.xlsx) sales report → the lines of a CSV, so that every delimited reader (the
import profiles, the mapping page) reads it like the CSV export of the same sheet.

Distributors send physical and some digital statements as workbooks (Cargo's physical statement,
The Orchard's and many labels' own). openpyxl reads the workbook (a maintained library; the format
is a zip of XML parts). The sheet read is the one with the most rows: statements put a short
summary sheet before the lines. One sheet row is one CSV line, so a problem's line number is the
row number the sender sees in Excel; a line break inside a cell becomes a space for that reason.

Numbers: Excel keeps a number as a binary double and shows at most 15 significant digits; the
shortest decimal that reads back as the same double (Python's `repr`) is the number the sender
typed or saw (0.1 stays 0.1, not 0.1000000000000000055…). It is written out in plain notation,
never as 1e-05, and a whole number without a decimal point (a UPC stays 1234567891234). Dates are
written as ISO dates. Formulas give the value Excel last computed (stored in the file).
"""

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import BinaryIO

import openpyxl

ZIP_MAGIC = b"PK\x03\x04"
# The part every SpreadsheetML workbook has; a plain zip archive of CSV files has not.
WORKBOOK_PART = "xl/workbook.xml"


def whole(head: bytes, stream: BinaryIO) -> BinaryIO:
    """The stream `head` was read from, whole, seekable and at its start: a zip archive's directory
    is at its end. A stored file is used as it is; a streamed one (an S3 body) is read into memory,
    which the upload limit bounds."""
    if stream.seekable():
        stream.seek(0)
        return stream
    return io.BytesIO(head + stream.read())


def _entries(data: BinaryIO) -> list[zipfile.ZipInfo] | None:
    """The entries of a zip archive's directory (None when it is not one); `data` is left at its start."""
    try:
        with zipfile.ZipFile(data) as archive:
            return archive.infolist()
    except zipfile.BadZipFile:
        return None
    finally:
        data.seek(0)


def _holds_workbook(entries: list[zipfile.ZipInfo]) -> bool:
    return any(entry.filename == WORKBOOK_PART for entry in entries)


def is_workbook(data: BinaryIO) -> bool:
    """Whether a seekable zip stream (at its start) holds an .xlsx workbook."""
    entries = _entries(data)
    return entries is not None and _holds_workbook(entries)


def workbook_lines(data: BinaryIO) -> Iterator[str]:
    """The CSV lines (each ending in \\n) of the workbook's largest sheet."""
    workbook = openpyxl.load_workbook(data, read_only=True, data_only=True)
    try:
        sheet = max(workbook.worksheets, key=lambda ws: ws.max_row or 0)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            cells = [cell_text(value) for value in row]
            while cells and not cells[-1]:
                cells.pop()
            writer.writerow(cells)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    finally:
        workbook.close()


def cell_text(value: object) -> str:
    """A cell's value as the text a CSV export of the sheet would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    text = " ".join(str(value).splitlines())
    return text if text.isascii() else unicodedata.normalize("NFC", text)


# What a member of a zip archive may be: a report, not a nested archive or a document.
REPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
# Bounds a hostile archive: members looked at, and the bytes one member may unpack to.
MAX_MEMBERS = 100
MAX_MEMBER_BYTES = 2 << 30


def archive_members(data: BinaryIO) -> list[str] | None:
    """The report members of a zip archive (a seekable stream at its start) that is not a workbook,
    in name order (None when the stream is not such an archive). Folders, macOS resource forks and hidden files are left out."""
    entries = _entries(data)
    if entries is None or _holds_workbook(entries):
        return None
    names = [
        info.filename
        for info in entries[:MAX_MEMBERS]
        if not info.is_dir()
        and info.file_size <= MAX_MEMBER_BYTES
        and not info.filename.startswith("__MACOSX/")
        and not info.filename.rsplit("/", 1)[-1].startswith(".")
        and info.filename.lower().endswith(REPORT_SUFFIXES)
    ]
    return sorted(names)


def archive_member(data: BinaryIO, name: str) -> BinaryIO:
    """One member of a zip archive, as a binary stream (unpacked as it is read)."""
    return zipfile.ZipFile(data).open(name)
