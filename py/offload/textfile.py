"""A person's file as text: size cap, binary sniffing, encoding detection, streaming decode.

The bytes are never copied whole: `open_text` wraps them in a raw reader that hands out slices, so
decoding and line splitting (C code in `io`) hold a chunk at a time, and `position` tells how many
bytes are consumed, for progress. Every refusal is a `DataError` whose message says what is wrong
and where (byte offset and line), so a person can fix the file.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Buffer

#: Encodings detected from a byte-order mark; without one a file is read as UTF-8.
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# How files that are not text announce themselves in their first bytes, to say what was dropped.
SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx or .ods workbook is one: export it as CSV first)"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (an .xls workbook: export it as CSV first)"),
)
SNIFF = 64 * 1024  # bytes looked at for a NUL byte (text never has one; binary files soon do)
CHUNK = 64 * 1024  # bytes decoded at a time


class DataError(ValueError):
    """The file cannot be read as the task expects; the message says why and where."""


def check_text(data: memoryview, task: str) -> None:
    """Refuse an empty file and one that is clearly not text.

    Raises:
        DataError: no bytes, or a known binary signature, or a NUL byte near the start (outside
            UTF-16, where NULs are normal).
    """
    if len(data) == 0:
        raise DataError(f"{task}: the file is empty (0 bytes)")
    head = bytes(data[:SNIFF])
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise DataError(f"{task}: this is not a text file: it starts like {what}")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(
            f"{task}: this looks like a binary file, not text: it has a NUL byte at offset {nul:_}"
        )


def detect_encoding(data: memoryview, requested: str, task: str) -> str:
    """The codec to read `data` with: `requested`, or for "auto" the BOM's, else UTF-8.

    Raises:
        DataError: `requested` is not an encoding Python knows.
    """
    if requested != "auto":
        try:
            return codecs.lookup(requested).name
        except LookupError:
            raise DataError(
                f"{task}: unknown encoding {requested!r}; "
                "try 'auto', 'utf-8', 'cp1252' or 'latin-1'"
            ) from None
    head = bytes(data[:4])
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    return "utf-8"


class MemoryReader(io.RawIOBase):
    """A raw binary stream over a buffer that copies out only what is asked for."""

    def __init__(self, data: memoryview) -> None:
        super().__init__()
        self._data = data
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Buffer) -> int:
        view = memoryview(target).cast("B")
        size = min(len(view), len(self._data) - self.position)
        view[:size] = self._data[self.position : self.position + size]
        self.position += size
        return size


def open_text(data: memoryview, encoding: str) -> tuple[io.TextIOWrapper, MemoryReader]:
    """A text stream over `data` in `encoding` with newlines untranslated (as `csv` wants), and
    the raw reader whose `position` is the bytes consumed so far."""
    raw = MemoryReader(data)
    buffered = io.BufferedReader(raw, buffer_size=CHUNK)
    text = io.TextIOWrapper(buffered, encoding=encoding, newline="")
    # It decodes 8 KiB at a time unless told otherwise: a CHUNK at a time means fewer decoder
    # calls and fewer lines pieced together across chunks (about 15% off csv.reader's time in
    # the worker, 8% natively, on the benchmark's file).
    text._CHUNK_SIZE = CHUNK  # type: ignore[attr-defined]  # CPython has it; typeshed does not
    return text, raw


def undecodable(data: memoryview, encoding: str, task: str) -> DataError:
    """The error for a file that does not decode: the first bad byte's offset and line.

    Decodes again chunk by chunk (the error from the stream gives a position within a chunk only).
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    for start in range(0, len(data), CHUNK):
        chunk = bytes(data[start : start + CHUNK])
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=start + CHUNK >= len(data))
        except UnicodeDecodeError as error:
            offset = start - pending + error.start
            bad = bytes(data[offset : offset + 1]).hex()
            line = bytes(data[:offset]).count(b"\n") + 1
            return DataError(
                f"{task}: byte 0x{bad} at offset {offset:_} (line {line:_}) is not valid "
                f"{encoding}; if the file was saved in another encoding, choose it "
                "(e.g. encoding 'cp1252' or 'latin-1')"
            )
    return DataError(f"{task}: the file is not valid {encoding}")
