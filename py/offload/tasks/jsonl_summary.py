"""Summarise a JSON Lines file given as bytes: one JSON object per line, keys as columns.

The sibling of csv_summary, with the same column statistics (offload.columns): a key's values are
integers, floats or text (strings, booleans and nested values read as text), `null` and an absent
key are missing. A line that is not a JSON object is counted in `invalid_lines` with the first few
line numbers, and the rest is still summarised.

The result: format ("jsonl"), encoding, delimiter (None), bytes, rows (objects read), blank_lines,
header (False), columns, invalid_lines ({count, first_lines}).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from offload.columns import Column, summarise
from offload.params import BytesParam, TextParam, reject_unknown_params
from offload.runtime import TaskContext
from offload.tasks.csv_summary import BATCH, MAX_BYTES, MAX_COLUMNS, LineCounts
from offload.textfile import DataError, check_text, detect_encoding, open_text, undecodable

DATA = BytesParam("data", "the file's bytes", max_bytes=MAX_BYTES)
ENCODING = TextParam(
    "encoding", "'auto' (a byte-order mark, else UTF-8) or a codec name", "auto", max_length=40
)
PARAMS = (DATA, ENCODING)

ABSENT = object()  # a key a line does not have (counted as missing, like null)


def summarise_jsonl(
    data: memoryview | bytes, ctx: TaskContext, *, encoding: str = "auto"
) -> dict[str, object]:
    """The summary of JSON Lines `data` (see the module docstring for its keys).

    Raises:
        DataError: empty, binary, undecodable, no object at all, too many keys.
    """
    data = memoryview(data)
    check_text(data, "jsonl_summary")
    codec = detect_encoding(data, encoding, "jsonl_summary")
    try:
        summary = _summarise(data, codec, ctx)
    except UnicodeDecodeError:
        raise undecodable(data, codec, "jsonl_summary") from None
    return {"format": "jsonl", "encoding": codec, "delimiter": None, **summary}


def _summarise(data: memoryview, codec: str, ctx: TaskContext) -> dict[str, object]:
    text, raw = open_text(data, codec)
    columns: dict[str, Column] = {}
    invalid = LineCounts()
    rows = blank = 0
    batch: list[dict[str, object]] = []

    def flush() -> None:
        for key, column in columns.items():
            values = [record.get(key, ABSENT) for record in batch]
            present = [value for value in values if value is not ABSENT]
            column.add_missing(len(values) - len(present))
            column.add_values(present)
        batch.clear()
        ctx.progress(raw.position, len(data))

    line_number = 0
    # A "\r" before "\n" (or alone) ends a line too; JSON cannot hold a raw one inside a value.
    for line in text:
        line_number += 1
        if not line.strip():
            blank += 1
            continue
        try:
            record = json.loads(line)
        except ValueError:
            invalid.add(line_number)
            continue
        if not isinstance(record, dict):
            invalid.add(line_number)
            continue
        rows += 1
        for key in record:
            if key not in columns:
                if len(columns) >= MAX_COLUMNS:
                    raise DataError(
                        f"jsonl_summary: line {line_number:_} brings the number of distinct keys "
                        f"past {MAX_COLUMNS:_}, the limit"
                    )
                column = columns[key] = Column(key)
                column.add_missing(rows - 1 - len(batch))  # earlier, already counted rows lack it
        batch.append(record)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    if rows == 0 and invalid.count == 0:
        raise DataError("jsonl_summary: the file has no lines (only whitespace)")
    ctx.progress(len(data), len(data))
    return {
        "bytes": len(data),
        "rows": rows,
        "blank_lines": blank,
        "header": False,
        "columns": summarise(columns.values()),
        "invalid_lines": invalid.summary(),
    }


def run(params: Mapping[str, object], ctx: TaskContext) -> dict[str, object]:
    """Task adapter: `{data, encoding?}` -> the summary."""
    reject_unknown_params("jsonl_summary", params, PARAMS)
    return summarise_jsonl(
        DATA.read("jsonl_summary", params),
        ctx,
        encoding=ENCODING.read("jsonl_summary", params) if "encoding" in params else "auto",
    )
