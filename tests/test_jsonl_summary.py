"""jsonl_summary reads one JSON object per line and summarises keys as columns, like csv_summary."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from offload.runtime import SILENT
from offload.tasks import run_task
from offload.tasks.jsonl_summary import summarise_jsonl
from offload.textfile import DataError


def test_keys_become_columns_with_json_types_and_missing_keys_counted() -> None:
    lines = [
        {"id": 1, "price": 2.5, "name": "a", "tags": ["x"]},
        {"id": 2, "price": 3, "name": None},
        {"id": 3, "name": "b", "ok": True},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    summary = summarise_jsonl(data, SILENT)
    by_name = {c["name"]: c for c in summary["columns"]}  # type: ignore[attr-defined]
    assert list(by_name) == ["id", "price", "name", "tags", "ok"]
    assert (by_name["id"]["type"], by_name["id"]["mean"]) == ("integer", 2.0)
    assert (by_name["price"]["type"], by_name["price"]["missing"]) == ("float", 1)
    assert by_name["price"]["mean"] == 2.75
    assert (by_name["name"]["count"], by_name["name"]["missing"]) == (2, 1)
    assert by_name["tags"]["top"] == [{"value": '["x"]', "count": 1}]
    assert (by_name["ok"]["type"], by_name["ok"]["missing"]) == ("text", 2)
    assert summary["rows"] == 3


def test_a_generated_file_agrees_with_json_loads_line_by_line() -> None:
    rng = random.Random(4)
    records: list[dict[str, Any]] = [
        {"n": rng.randint(-5, 5), "x": rng.random(), "s": rng.choice("abc")} for _ in range(6000)
    ]
    for record in records[::7]:
        del record["x"]
    data = "\r\n".join(json.dumps(r) for r in records).encode()
    summary: Any = run_task("jsonl_summary", {"data": data})
    columns = {c["name"]: c for c in summary["columns"]}
    n, x, s = columns["n"], columns["x"], columns["s"]
    xs = [r["x"] for r in records if "x" in r]
    assert (x["count"], x["missing"]) == (len(xs), len(records) - len(xs))
    assert x["mean"] == pytest.approx(math.fsum(xs) / len(xs), rel=1e-12)
    assert (n["min"], n["max"]) == (-5, 5)
    assert s["top"][0]["count"] == max(sum(r["s"] == c for r in records) for c in "abc")


def test_lines_that_are_not_objects_are_counted_and_the_rest_summarised() -> None:
    data = b'{"a": 1}\n[1, 2]\n{"a": 2\n\n"text"\n{"a": 3}\n'
    summary = summarise_jsonl(data, SILENT)
    assert summary["invalid_lines"] == {"count": 3, "first_lines": [2, 3, 5]}
    assert (summary["rows"], summary["blank_lines"]) == (2, 1)
    assert summary["columns"][0]["mean"] == 2.0  # type: ignore[index]


def test_an_empty_or_binary_file_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="empty"):
        summarise_jsonl(b"", SILENT)
    with pytest.raises(DataError, match="no lines"):
        summarise_jsonl(b"  \n\n", SILENT)
    with pytest.raises(DataError, match="gzip"):
        summarise_jsonl(b"\x1f\x8b\x08\x00", SILENT)
