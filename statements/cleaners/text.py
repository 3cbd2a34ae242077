"""Bytes of an uploaded sales file → lines of text, whatever encoding the sender's tool used.

Sales reports arrive as UTF-8 (with or without a byte-order mark), UTF-16 with a BOM (Bandcamp's
sales export, Excel's "Unicode text") or Windows-1252 (older spreadsheet exports), or as an Excel
workbook, read as the CSV lines of its sheet (`workbook`). Each line is
normalised to Unicode NFC, so an artist typed with a combining accent (`Konte\u0301`) and with the
precomposed letter (`Konté`) is the same artist downstream.
"""

import codecs
import io
import unicodedata
from collections.abc import Iterator
from itertools import chain, islice
from typing import BinaryIO

from statements.cleaners import workbook

# A sales line is at most a few hundred characters; a longer "line" is a binary or broken upload,
# and refusing it keeps the memory of every line-based parser bounded.
MAX_LINE = 4 << 20  # characters (UTF-16) or bytes (UTF-8, Windows-1252)
_CHUNK = 1 << 16
_BATCH = 1000  # lines handed to the parser at once
_TOO_LONG = f"a line is longer than {MAX_LINE >> 20} MiB: not a text sales file"


class LineTooLong(ValueError):
    """The stream has a line longer than MAX_LINE: it is not a text sales file."""


def open_text(stream: BinaryIO) -> Iterator[str]:
    """Lines of a binary stream, decoded and NFC-normalised.

    Each line keeps its own line ending (`\\n`, `\\r\\n` or a lone `\\r`), so the csv module can
    still read a quoted field that spans lines and count physical lines. Raises `LineTooLong`
    while iterating when a line exceeds MAX_LINE.
    """
    head = stream.read(4)
    if head == workbook.ZIP_MAGIC:
        data = workbook.whole(head, stream)
        if workbook.is_workbook(data):
            return workbook.workbook_lines(data)
        stream, head = data, data.read(4)
    encoding, errors = _encoding_of(head)
    if encoding != "utf-8-sig":
        raw = io.BufferedReader(_Prefixed(head, stream), _CHUNK)
        return _utf16_lines(io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=""))
    # In UTF-8 and Windows-1252 a line break is a \n or \r byte, so the raw reader can bound
    # the line length and the text is iterated at C speed.
    raw = io.BufferedReader(_Prefixed(head, stream, guard=True), _CHUNK)
    return chain.from_iterable(_batches(io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")))


def replayed(head: bytes, stream: BinaryIO) -> BinaryIO:
    """The stream as it was before `head` was read from it."""
    return io.BufferedReader(_Prefixed(head, stream), _CHUNK)


def failing(error: LineTooLong) -> Iterator[str]:
    """The rest of a file whose reading failed: it raises that error when read, so a parser that
    read ahead (to detect the format) still reads the lines before it first."""
    raise error
    yield  # a generator: the error is raised when the parser reads this far


def _encoding_of(head: bytes) -> tuple[str, str]:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
        codecs.BOM_UTF32_LE
    ):
        return "utf-16", "replace"  # the codec reads the BOM and drops it
    # Without a BOM, UTF-16 text of an ASCII header has a NUL beside every letter.
    if len(head) == 4 and head[0] and not head[1] and head[2] and not head[3]:
        return "utf-16-le", "replace"
    if len(head) == 4 and not head[0] and head[1] and not head[2] and head[3]:
        return "utf-16-be", "replace"
    # utf-8-sig drops a UTF-8 BOM when there is one; surrogateescape keeps the bytes that are not
    # UTF-8 so the line can be re-read as Windows-1252.
    return "utf-8-sig", "surrogateescape"


def _batches(text: io.TextIOWrapper) -> Iterator[list[str]]:
    """The lines in batches of _BATCH. A batch of ASCII lines (most files) is passed on as it is,
    so the lines reach the parser without a Python step each. A line over MAX_LINE raises
    LineTooLong after the lines before it."""
    lines = iter(text)
    while True:
        batch: list[str] = []
        try:
            # list.extend keeps the items it took before an error: the lines before a long one.
            batch.extend(islice(lines, _BATCH))
        except LineTooLong:
            yield _decoded(batch)
            raise
        if not batch:
            return
        yield _decoded(batch)


def _decoded(batch: list[str]) -> list[str]:
    """The batch with each non-ASCII line read as Windows-1252 where it was not UTF-8, in NFC."""
    return (
        batch
        if all(map(str.isascii, batch))
        else [line if line.isascii() else _normal(line) for line in batch]
    )


def _normal(line: str) -> str:
    line = _from_cp1252(line)
    return line if unicodedata.is_normalized("NFC", line) else unicodedata.normalize("NFC", line)


def _utf16_lines(text: io.TextIOWrapper) -> Iterator[str]:
    readline, limit = text.readline, MAX_LINE + 1
    is_nfc, normalize = unicodedata.is_normalized, unicodedata.normalize
    while line := readline(limit):
        if len(line) == limit and line[-1] not in "\r\n":
            raise LineTooLong(_TOO_LONG)
        yield line if line.isascii() or is_nfc("NFC", line) else normalize("NFC", line)


def _from_cp1252(line: str) -> str:
    """A line decoded as UTF-8 with surrogate escapes; if its bytes were not UTF-8, they are read
    again as Windows-1252 (bytes it leaves undefined become U+FFFD)."""
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return line.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    return line


class _Prefixed(io.RawIOBase):
    """The bytes already read to sniff the encoding, then the rest of the stream; with `guard`,
    refuses a line longer than MAX_LINE bytes before the text layer has to hold it."""

    def __init__(self, head: bytes, stream: BinaryIO, *, guard: bool = False):
        self.head = head
        self.stream = stream
        self.guard = guard
        self.since_newline = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            chunk, self.head = self.head[: len(buffer)], self.head[len(buffer) :]
        else:
            chunk = self.stream.read(len(buffer))
        size = len(chunk)
        buffer[:size] = chunk
        if self.guard:
            last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            if last >= 0:
                # The line the previous reads left open ends in this one, at its first break.
                breaks = [at for at in (chunk.find(b"\n"), chunk.find(b"\r")) if at >= 0]
                if self.since_newline + min(breaks) > MAX_LINE:
                    raise LineTooLong(_TOO_LONG)
            self.since_newline = self.since_newline + size if last < 0 else size - last - 1
            if self.since_newline > MAX_LINE:
                raise LineTooLong(_TOO_LONG)
        return size
