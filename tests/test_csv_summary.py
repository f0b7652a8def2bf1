"""csv_summary reads a person's CSV bytes and says what each column holds, as csv + int/float do."""

from __future__ import annotations

import csv
import io
import math
import string
import tracemalloc
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offload.columns import MAX_KEY
from offload.params import BytesParam, ParameterError
from offload.runtime import SILENT, TaskContext
from offload.tasks import TASKS, run_task
from offload.tasks.csv_summary import MAX_BYTES, summarise_csv
from offload.textfile import DataError
from support.csv_reference import realistic_csv, reference_summary


def agrees_with_reference(summary: dict[str, object], text: str, delimiter: str = ",") -> None:
    """The summary says what csv.reader plus int()/float() say about the same text."""
    expected = reference_summary(text, delimiter)
    assert summary["rows"] == expected["rows"]
    assert summary["ragged_rows"]["count"] == expected["ragged"]  # type: ignore[index]
    columns = summary["columns"]
    assert isinstance(columns, list)
    assert [c["name"] for c in columns] == [c["name"] for c in expected["columns"]]  # type: ignore[attr-defined]
    for got, want in zip(columns, expected["columns"], strict=True):  # type: ignore[call-overload]
        assert (got["type"], got["count"], got["missing"]) == (
            want["type"],
            want["count"],
            want["missing"],
        ), got["name"]
        if want["type"] in ("integer", "float"):
            assert got["min"] == want["min"]
            assert got["max"] == want["max"]
            assert got["mean"] == pytest.approx(want["mean"], rel=1e-12)
            assert sum(got["histogram"]["counts"]) == want["count"]
        if want["type"] == "text" and got["top_exact"]:
            top = [(t["value"], t["count"]) for t in got["top"]]
            # Long values are counted by their first MAX_KEY characters (a documented bound).
            counts: Counter[str] = Counter()
            for value, count in want["top"]:
                counts[value if len(value) <= MAX_KEY else value[:MAX_KEY] + "…"] += count
            assert all(counts[value] == count for value, count in top)
            assert [count for _, count in top] == [n for _, n in counts.most_common(len(top))]


def test_a_realistic_table_agrees_with_the_csv_module() -> None:
    text = realistic_csv(3_000, seed=1)
    summary = summarise_csv(text.encode(), SILENT)
    agrees_with_reference(summary, text)
    assert (summary["encoding"], summary["delimiter"]) == ("utf-8", ",")
    types = {c["name"]: c["type"] for c in summary["columns"]}  # type: ignore[attr-defined]
    assert types == {
        "id": "integer",
        "name": "text",
        "city": "text",
        "amount": "float",
        "visits": "integer",
        "joined": "text",
        "note": "text",
    }


@pytest.mark.parametrize(
    ("delimiter", "newline"), [(",", "\r\n"), (";", "\n"), ("\t", "\r\n"), ("|", "\n")]
)
def test_the_delimiter_is_detected_and_crlf_is_read_like_lf(delimiter: str, newline: str) -> None:
    text = realistic_csv(500, seed=2, delimiter=delimiter, newline=newline)
    summary = summarise_csv(text.encode(), SILENT)
    assert summary["delimiter"] == delimiter
    agrees_with_reference(summary, text, delimiter)


def test_quoted_fields_keep_their_commas_quotes_and_newlines() -> None:
    text = 'name,remark\n"Doe, Jane","said ""hi""\non two lines"\nbob,plain\n'
    summary = summarise_csv(text.encode(), SILENT)
    remark = summary["columns"][1]  # type: ignore[index]
    assert summary["rows"] == 2
    assert {t["value"] for t in remark["top"]} == {'said "hi"\non two lines', "plain"}


def test_a_utf8_bom_is_detected_and_not_part_of_the_first_name() -> None:
    summary = summarise_csv("\ufeffa,b\n1,2\n".encode(), SILENT)
    assert summary["encoding"] == "utf-8-sig"
    assert summary["columns"][0]["name"] == "a"  # type: ignore[index]


def test_utf16_with_a_bom_is_read() -> None:
    text = "ä;ö\n1,5;x\n2,5;y\n"
    summary = summarise_csv(text.encode("utf-16"), SILENT)
    assert (summary["encoding"], summary["delimiter"]) == ("utf-16", ";")
    assert [c["type"] for c in summary["columns"]] == ["text", "text"]  # type: ignore[attr-defined]


def test_a_chosen_encoding_reads_what_utf8_cannot() -> None:
    data = "stadt,n\nKöln,1\n".encode("cp1252")
    with pytest.raises(DataError, match=r"byte 0xf6 at offset 9 \(line 2\) is not valid utf-8"):
        summarise_csv(data, SILENT)
    summary = summarise_csv(data, SILENT, encoding="cp1252")
    assert summary["columns"][0]["top"] == [{"value": "Köln", "count": 1}]  # type: ignore[index]


def test_an_undecodable_byte_far_into_the_file_is_located() -> None:
    text = "a,b\n" + "1,2\n" * 50_000
    data = text.encode() + b"3,\xff\n"
    with pytest.raises(DataError, match=rf"0xff at offset {len(text) + 2:_} \(line 50_002\)"):
        summarise_csv(data, SILENT)


def test_missing_values_are_counted_and_do_not_change_the_type() -> None:
    summary: Any = summarise_csv(b"x,y,z\n1,, \n,2.5,\n3,,\n", SILENT)
    x, y, z = summary["columns"]
    assert (x["type"], x["count"], x["missing"], x["mean"]) == ("integer", 2, 1, 2.0)
    assert (y["type"], y["count"], y["missing"]) == ("float", 1, 2)
    assert (z["type"], z["count"], z["missing"]) == ("empty", 0, 3)


def test_a_very_long_field_is_read_whole() -> None:
    long = "é" * 300_000  # past csv's default field limit of 128 KiB
    summary = summarise_csv(f'a,b\n"{long}",1\n'.encode(), SILENT)
    assert summary["columns"][1]["mean"] == 1.0  # type: ignore[index]
    assert csv.field_size_limit() == 131_072  # the process-wide limit is restored


def test_ragged_rows_are_counted_with_their_lines_and_the_rest_summarised() -> None:
    text = "a,b\n1,2\n3\n4,5\n6,7,8\n" + "9,10\n" * 30 + "1\n" * 20
    summary = summarise_csv(text.encode(), SILENT)
    assert summary["ragged_rows"] == {
        "count": 22,
        "first_lines": [3, 5, 36, 37, 38, 39, 40, 41, 42, 43],
        "expected_fields": 2,
    }
    assert summary["columns"][0]["count"] == 32  # type: ignore[index]
    agrees_with_reference(summary, text)


def test_line_numbers_count_the_lines_inside_quoted_fields() -> None:
    summary = summarise_csv(b'a,b\n"x\ny\nz",1\nshort\n', SILENT)
    assert summary["ragged_rows"]["first_lines"] == [5]  # type: ignore[index]


def test_a_stray_character_after_a_closing_quote_is_a_malformed_row_not_a_crash() -> None:
    summary = summarise_csv(b'a,b\n"x"y,1\n2,3\n', SILENT)
    assert summary["malformed_rows"] == {"count": 1, "first_lines": [2]}
    assert summary["columns"][1]["count"] == 1  # type: ignore[index]


def test_an_unclosed_quote_is_an_error_naming_its_line() -> None:
    with pytest.raises(DataError, match=r"unclosed quote.*starting on line 3"):
        summarise_csv(b'a,b\n1,2\n3,"four\n5,6\n', SILENT)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"the file is empty \(0 bytes\)"),
        (b"\n\r\n\n", "no rows"),
        (b"PK\x03\x04rest", "ZIP archive"),
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"a,b\n1,\x00\x00\x01", "binary file.*NUL byte at offset 6"),
    ],
)
def test_files_that_are_not_csv_get_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        summarise_csv(data, SILENT)


def test_a_file_over_the_size_cap_is_refused_naming_the_cap() -> None:
    cap = BytesParam("data", "a file", max_bytes=2 * 1024 * 1024)
    with pytest.raises(ParameterError, match=r"data is 2\.0 MiB; t reads at most 2\.0 MiB"):
        cap.read("t", {"data": bytes(2 * 1024 * 1024 + 1)})
    assert len(cap.read("t", {"data": bytes(2 * 1024 * 1024)})) == 2 * 1024 * 1024
    (declared,) = [p for p in TASKS["csv_summary"].schema()["params"] if p["name"] == "data"]
    assert declared["kind"] == "bytes"
    assert declared["max_bytes"] == MAX_BYTES == 256 * 1024 * 1024


def test_the_data_must_be_bytes() -> None:
    with pytest.raises(ParameterError, match=r"data must be bytes .* got str"):
        run_task("csv_summary", {"data": "a,b\n1,2"})


def test_progress_is_reported_in_bytes_up_to_the_whole_file() -> None:
    data = realistic_csv(20_000).encode()
    reports: list[tuple[int, int]] = []
    summarise_csv(data, TaskContext(lambda done, total: reports.append((done, total))))
    assert len(reports) > 3
    assert all(total == len(data) for _, total in reports)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert reports[-1] == (len(data), len(data))


def test_memory_stays_well_below_the_size_of_the_file() -> None:
    data = realistic_csv(60_000, seed=3).encode()  # ~4 MB, a text column of unique long notes
    tracemalloc.start()
    try:
        summarise_csv(data, SILENT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(data) / 2


def test_numbers_beyond_a_float_or_not_finite_make_a_column_text_not_a_crash() -> None:
    summary = summarise_csv(f"a,b\n{'9' * 400},inf\n1,nan\n".encode(), SILENT)
    assert [c["type"] for c in summary["columns"]] == ["text", "text"]  # type: ignore[attr-defined]


def test_histogram_counts_every_value_once_over_its_range() -> None:
    values = [-1000, *range(100), 10**6]
    text = "v\n" + "\n".join(map(str, values)) + "\n"
    histogram = summarise_csv(text.encode(), SILENT)["columns"][0]["histogram"]  # type: ignore[index]
    assert sum(histogram["counts"]) == len(values)
    assert histogram["edges"][0] <= -1000
    assert histogram["edges"][-1] > 10**6
    assert len(histogram["edges"]) == len(histogram["counts"]) + 1


cells = st.text(alphabet=string.ascii_letters + string.digits + ' ,;"\n\r.-é', max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=30))
def test_any_table_written_by_the_csv_module_reads_back_the_same(rows: list[list[str]]) -> None:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["a", "b", "c"], *rows])
    text = out.getvalue()
    summary = summarise_csv(text.encode(), SILENT, delimiter=",")
    agrees_with_reference(summary, text)


def lines_record_by_record(text: str) -> tuple[list[int], list[int]] | None:
    """The first lines of ragged and malformed records, from csv.reader's line_num after each;
    None when the file ends inside a quoted field."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    ragged: list[int] = []
    malformed: list[int] = []
    width, last = -1, 0
    while True:
        try:
            for row in reader:
                start, last = last + 1, reader.line_num
                if row and width < 0:
                    width = len(row)
                elif row and len(row) != width:
                    ragged.append(start)
            return ragged[:10], malformed[:10]
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                return None
            start, last = last + 1, reader.line_num
            malformed.append(start)


lines_text = st.lists(st.sampled_from(["a", ",", '"', "\n", "\r", "\r\n", "é"]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(lines_text.map("".join))
def test_bad_records_are_found_on_the_lines_csv_reads_them_from(body: str) -> None:
    text = f"h1,h2\n{body}"
    expected = lines_record_by_record(text)
    if expected is None:
        with pytest.raises(DataError, match="unclosed quote"):
            summarise_csv(text.encode(), SILENT, delimiter=",")
        return
    ragged, malformed = expected
    summary = summarise_csv(text.encode(), SILENT, delimiter=",")
    assert summary["ragged_rows"]["first_lines"] == ragged  # type: ignore[index]
    assert summary["malformed_rows"]["first_lines"] == malformed  # type: ignore[index]


def test_line_numbers_stay_right_after_batches_of_regular_records() -> None:
    # Thousands of good records spanning several lines each (read BATCH at a time), then bad ones.
    good = ['"x\r\ny",1\n', '"p\rq\n\nr",2\r\n', "3,4\n"] * 3_000
    bad = ["ragged\n", '"a"b,1\n', "5,6\n", "7,8,9\n"] * 3
    text = "a,b\n" + "".join(good + bad + good[:10] + bad)
    summary = summarise_csv(text.encode(), SILENT)
    expected = lines_record_by_record(text)
    assert expected is not None
    ragged, malformed = expected
    assert ragged[0] == 1 + 3_000 * (2 + 4 + 1) + 1
    assert summary["ragged_rows"]["first_lines"] == ragged  # type: ignore[index]
    assert summary["malformed_rows"]["first_lines"] == malformed  # type: ignore[index]
    assert summary["malformed_rows"]["count"] == 6  # type: ignore[index]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_summary_or_a_clear_error(data: bytes) -> None:
    try:
        summary = summarise_csv(data, SILENT)
    except DataError as error:
        message = str(error)
    else:
        message = "csv_summary: read"
        assert isinstance(summary["rows"], int)
        assert all(math.isfinite(c.get("mean", 0.0)) for c in summary["columns"])  # type: ignore[attr-defined]
    assert message.startswith("csv_summary: ")
