"""Bytes of an uploaded sales file → lines of text, whatever encoding the sender's tool used.

Sales reports arrive as UTF-8 (with or without a byte-order mark), UTF-16 with a BOM (Bandcamp's
sales export, Excel's "Unicode text") or Windows-1252 (older spreadsheet exports). Each line is
normalised to Unicode NFC, so an artist typed with a combining accent (`Konte\u0301`) and with the
precomposed letter (`Konté`) is the same artist downstream.
"""

import codecs
import io
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO

# A sales line is at most a few hundred characters; a longer "line" is a binary or broken upload,
# and refusing it keeps the memory of every line-based parser bounded.
MAX_LINE_CHARS = 4 << 20
_CHUNK = 1 << 16


class LineTooLong(ValueError):
    """The stream has a line longer than MAX_LINE_CHARS: it is not a text sales file."""


def open_text(stream: BinaryIO) -> Iterator[str]:
    """Lines of a binary stream, decoded and NFC-normalised.

    Each line keeps its own line ending (`\\n`, `\\r\\n` or a lone `\\r`), so the csv module can
    still read a quoted field that spans lines and count physical lines. Raises `LineTooLong`
    while iterating when a line exceeds MAX_LINE_CHARS.
    """
    head = stream.read(4)
    encoding, errors = _encoding_of(head)
    raw = io.BufferedReader(_Prefixed(head, stream), _CHUNK)
    text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
    return _lines(text, fix_cp1252=encoding == "utf-8-sig")


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


def _lines(text: io.TextIOWrapper, *, fix_cp1252: bool) -> Iterator[str]:
    readline, limit = text.readline, MAX_LINE_CHARS + 1
    is_nfc, normalize = unicodedata.is_normalized, unicodedata.normalize
    while line := readline(limit):
        if len(line) == limit and line[-1] not in "\r\n":
            raise LineTooLong(f"a line is longer than {MAX_LINE_CHARS} characters: not a text sales file")
        if line.isascii():
            yield line
            continue
        if fix_cp1252:
            line = _from_cp1252(line)
        yield line if is_nfc("NFC", line) else normalize("NFC", line)


def _from_cp1252(line: str) -> str:
    """A line decoded as UTF-8 with surrogate escapes; if its bytes were not UTF-8, they are read
    again as Windows-1252 (bytes it leaves undefined become U+FFFD)."""
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return line.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    return line


class _Prefixed(io.RawIOBase):
    """The bytes already read to sniff the encoding, then the rest of the stream."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self.head = head
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        chunk = self.stream.read(len(buffer))
        size = len(chunk)
        buffer[:size] = chunk
        return size
