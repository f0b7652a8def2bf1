"""Summarise a CSV file given as bytes: per column its type, counts, range, mean, histogram and
most frequent values; the delimiter and encoding it detected; rows that did not fit.

The file streams through `csv.reader` a chunk at a time (see offload.textfile), rows are handed to
the column statistics in batches, and progress is reported in bytes. The parse is `csv.reader`'s
default dialect with the detected delimiter, in strict mode only so that a broken quote is reported
with its line instead of silently swallowing the rest of the file.

The result:
    format ("csv"), encoding, delimiter, bytes, rows (data records, header excluded, ragged ones
    included), blank_lines, header (True), columns (see offload.columns.Column.summary),
    ragged_rows and malformed_rows ({count, first_lines}: records with another number of fields
    than the header, and records with a stray character after a closing quote; both are left out
    of the column statistics, everything else is summarised).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import islice

from offload.columns import Column, summarise
from offload.params import BytesParam, TextParam, reject_unknown_params
from offload.runtime import TaskContext
from offload.textfile import DataError, check_text, detect_encoding, open_text, undecodable

MAX_BYTES = (
    256 * 1024 * 1024
)  # a worker's heap holds the file twice (page's copy + Python's) and more
MAX_COLUMNS = 1_000
BATCH = 2_048  # records read at a time and handed to the column statistics
FIRST_LINES = 10  # line numbers kept of ragged or malformed rows
DELIMITERS = ",;\t|"  # candidates, in order of preference when the sample does not decide
SAMPLE = 64 * 1024  # characters read to detect the delimiter
SAMPLE_RECORDS = 200

DATA = BytesParam("data", "the file's bytes", max_bytes=MAX_BYTES)
ENCODING = TextParam(
    "encoding", "'auto' (a byte-order mark, else UTF-8) or a codec name", "auto", max_length=40
)
DELIMITER = TextParam("delimiter", "'auto' or one character: , ; tab |", "auto", max_length=4)
PARAMS = (DATA, ENCODING, DELIMITER)


class LineCounts:
    """A count of bad records and the line numbers of the first few."""

    def __init__(self) -> None:
        self.count = 0
        self.first_lines: list[int] = []

    def add(self, line: int) -> None:
        self.count += 1
        if len(self.first_lines) < FIRST_LINES:
            self.first_lines.append(line)

    def summary(self) -> dict[str, object]:
        return {"count": self.count, "first_lines": self.first_lines}


def summarise_csv(
    data: memoryview | bytes,
    ctx: TaskContext,
    *,
    encoding: str = "auto",
    delimiter: str = "auto",
) -> dict[str, object]:
    """The summary of CSV `data` (see the module docstring for its keys).

    Raises:
        DataError: empty, binary, undecodable, an unclosed quote, no header, too many columns.
    """
    data = memoryview(data)
    check_text(data, "csv_summary")
    codec = detect_encoding(data, encoding, "csv_summary")
    try:
        if delimiter == "auto":
            delimiter = detect_delimiter(data, codec)
        elif delimiter in ("tab", "\\t"):
            delimiter = "\t"
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise DataError(f"csv_summary: the delimiter must be one character, got {delimiter!r}")
        with field_limit(len(data)):
            summary = _summarise(data, codec, delimiter, ctx)
    except UnicodeDecodeError:
        raise undecodable(data, codec, "csv_summary") from None
    return {"format": "csv", "encoding": codec, "delimiter": delimiter, **summary}


def _summarise(data: memoryview, codec: str, delimiter: str, ctx: TaskContext) -> dict[str, object]:
    text, raw = open_text(data, codec)
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    columns: list[Column] = []
    ragged, malformed = LineCounts(), LineCounts()
    rows = blank = 0
    batch: list[list[str]] = []
    # Good records not yet handed to the statistics. They get exactly BATCH records at a time, as
    # many as are read at once, whatever lines are left out: a histogram's first range and a float
    # column's partial sums depend on where batches start, and the result must not depend on it.
    pending: list[list[str]] = []
    last_line = 0  # the line the last record read ended on; the next one starts after it
    width = -1  # fields per record, once the header is read

    while True:
        wanted = BATCH - len(pending)
        batch.clear()
        error: csv.Error | None = None
        try:
            # Records read in C (islice into list.extend), not one by one in a Python `for`, whose
            # bytecode per record cost the worker (wasm) about as much as csv's own parsing.
            # After a csv.Error the records before it stay in the batch, and the reader carries
            # on from the next line when asked again.
            batch.extend(islice(reader, wanted))
        except csv.Error as caught:
            error = caught
        records = pending + batch if pending else batch
        values = None if error else transposed(records, width)
        if values is not None:
            # The usual batch: every record as wide as the header.
            rows += len(batch)
            last_line = reader.line_num
            add_values(columns, values)
            pending = []
            ctx.progress(raw.position, len(data))
        else:
            # Rare (the header, blank lines, ragged records, an error): record by record, with the
            # line each starts on worked out from the lines they span (reader.line_num is known
            # only after the whole batch).
            for row in batch:
                start, last_line = last_line + 1, last_line + lines_spanned(row, delimiter)
                if len(row) == width:
                    rows += 1
                    pending.append(row)
                elif not row:
                    blank += 1
                elif not columns:
                    columns = header(row, delimiter)
                    width = len(columns)
                else:
                    rows += 1
                    ragged.add(start)
        if error is not None:
            start, last_line = last_line + 1, reader.line_num
            refuse_unclosed_quote(error, start)
            rows += 1
            malformed.add(start)  # e.g. "a"b: a character after a closing quote
        elif len(batch) < wanted:
            break  # the reader is exhausted
    if not columns:
        raise DataError("csv_summary: the file has no rows (only blank lines)")
    if pending:
        add_values(columns, transposed(pending, width) or [])
    ctx.progress(len(data), len(data))
    return {
        "bytes": len(data),
        "rows": rows,
        "blank_lines": blank,
        "header": True,
        "columns": summarise(columns),
        "ragged_rows": {**ragged.summary(), "expected_fields": len(columns)},
        "malformed_rows": malformed.summary(),
    }


def refuse_unclosed_quote(error: csv.Error, start: int) -> None:
    """Raise for the csv.Error that is no malformed record: the file ends inside a quoted field.

    Raises:
        DataError: naming the line the record starts on.
    """
    if "unexpected end of data" in str(error):
        raise DataError(
            f"csv_summary: unclosed quote: a quoted field in the record starting on line "
            f"{start:_} is never closed, so the file ends inside it"
        ) from None


def transposed(records: list[list[str]], width: int) -> list[tuple[str, ...]] | None:
    """The values of `records` column by column; None unless there are records and every one has
    `width` fields (zip's strict check of that is the transposition itself, nothing per record)."""
    try:
        values = list(zip(*records, strict=True))
    except ValueError:
        return None
    return values if len(values) == width else None


def add_values(columns: list[Column], values: list[tuple[str, ...]]) -> None:
    """Hand each column its values (a batch of records, column by column)."""
    for column, texts in zip(columns, values, strict=True):
        column.add_texts(texts)


def lines_spanned(row: list[str], delimiter: str) -> int:
    """The lines a record read from a stream with newlines untranslated spans: one, plus the line
    breaks inside its quoted fields ("\r\n" is one break, as for the stream's lines)."""
    joined = delimiter.join(row)  # the delimiter is never "\r" or "\n": no break is made or lost
    return 1 + joined.count("\n") + joined.count("\r") - joined.count("\r\n")


def header(row: list[str], delimiter: str) -> list[Column]:
    """A column per field of the header row (an empty name becomes "column N").

    Raises:
        DataError: more than MAX_COLUMNS fields.
    """
    if len(row) > MAX_COLUMNS:
        raise DataError(
            f"csv_summary: the header has {len(row):_} fields; the limit is "
            f"{MAX_COLUMNS:_} columns (is the delimiter {delimiter!r} right?)"
        )
    return [Column(name or f"column {i + 1}") for i, name in enumerate(row)]


def detect_delimiter(data: memoryview, codec: str) -> str:
    """The candidate delimiter that splits the first records into the most consistent width.

    Each candidate parses a sample; the one whose records most often have the commonest number of
    fields (at least two) wins; ties go to the earlier candidate in `DELIMITERS`. A single-column
    file gets ",".
    """
    text, _ = open_text(data, codec)
    sample = text.read(SAMPLE)
    if len(sample) == SAMPLE:
        # Drop the last, probably cut, line (unless the sample is one long line).
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        sample = sample[: cut + 1] if cut > 0 else sample
    best, best_score = ",", (0.0, 0)
    for candidate in DELIMITERS:
        widths = []
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=candidate)
        try:
            for row in reader:
                if row:
                    widths.append(len(row))
                if len(widths) >= SAMPLE_RECORDS:
                    break
        except csv.Error:
            pass  # a quote cut by the sample's end: judge on the records read so far
        if not widths:
            continue
        width, times = Counter(widths).most_common(1)[0]
        score = (times / len(widths), width)
        if width >= 2 and score[0] > best_score[0]:
            best, best_score = candidate, score
    return best


@contextmanager
def field_limit(size: int) -> Iterator[None]:
    """Let a field be as long as the file (csv's default limit is 128 KiB), then restore it."""
    previous = csv.field_size_limit(max(size, csv.field_size_limit()))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def run(params: Mapping[str, object], ctx: TaskContext) -> dict[str, object]:
    """Task adapter: `{data, encoding?, delimiter?}` -> the summary."""
    reject_unknown_params("csv_summary", params, PARAMS)
    return summarise_csv(
        DATA.read("csv_summary", params),
        ctx,
        encoding=ENCODING.read("csv_summary", params) if "encoding" in params else "auto",
        delimiter=DELIMITER.read("csv_summary", params) if "delimiter" in params else "auto",
    )
