"""run_code runs a person's Python like a REPL cell and streams what it prints."""

from __future__ import annotations

import sys
import time

import pytest

from offload import bridge
from offload.params import ParameterError
from offload.runtime import MAX_OUTPUT, TaskContext
from offload.tasks import run_task
from offload.tasks.run_code import MAX_CODE, run_source


def run_collecting(code: str) -> tuple[str | None, list[tuple[str, str]]]:
    out: list[tuple[str, str]] = []
    ctx = TaskContext(on_output=lambda stream, text: out.append((stream, text)))
    return run_source(code, ctx), out


def joined(out: list[tuple[str, str]], stream: str) -> str:
    return "".join(text for name, text in out if name == stream)


def test_the_value_of_a_final_expression_is_returned_as_its_repr_and_itself() -> None:
    assert run_task("run_code", {"code": "x = 6\nx * 7"}) == {"result_repr": "42", "value": 42}
    assert run_task("run_code", {"code": "'a' + 'b'"}) == {"result_repr": "'ab'", "value": "ab"}


def test_plain_data_comes_back_as_the_value_itself() -> None:
    code = "{'rows': [1, 2.5, None, True], 'name': 'x', 'raw': b'\\x00'}"
    value = {"rows": [1, 2.5, None, True], "name": "x", "raw": b"\x00"}
    assert run_task("run_code", {"code": code}) == {"result_repr": repr(value), "value": value}


def test_a_value_that_is_no_plain_data_comes_back_as_its_repr_only() -> None:
    assert run_task("run_code", {"code": "{1, 2}"}) == {"result_repr": "{1, 2}"}
    assert run_task("run_code", {"code": "{1: 'a'}"}) == {"result_repr": "{1: 'a'}"}
    assert "value" not in run_task("run_code", {"code": "list(range(200_000))"})


def test_code_reports_progress_with_one_import() -> None:
    seen: list[tuple[int, int]] = []
    code = "from offload import progress\nfor i in range(3):\n    progress(i + 1, 3)"
    run_task("run_code", {"code": code}, TaskContext(lambda d, t: seen.append((d, t))))
    assert seen[-1] == (3, 3)


def test_code_ending_with_a_statement_returns_none() -> None:
    assert run_task("run_code", {"code": "x = 1"}) == {"result_repr": None}
    assert run_task("run_code", {"code": ""}) == {"result_repr": None}


def test_stdout_and_stderr_reach_the_sink_and_sys_streams_are_restored() -> None:
    before = sys.stdout, sys.stderr, sys.stdin
    result, out = run_collecting("import sys\nprint('out')\nprint('err', file=sys.stderr)\n1")
    assert result == "1"
    assert joined(out, "stdout") == "out\n"
    assert joined(out, "stderr") == "err\n"
    assert (sys.stdout, sys.stderr, sys.stdin) == before


def test_output_is_batched_not_sent_per_print() -> None:
    _, out = run_collecting("for i in range(10_000): print(i)")
    assert joined(out, "stdout") == "".join(f"{i}\n" for i in range(10_000))
    assert len(out) < 100


def test_the_first_line_goes_at_once_and_sleep_flushes_what_waits() -> None:
    seen: list[tuple[float, str]] = []
    ctx = TaskContext(on_output=lambda _, text: seen.append((time.monotonic(), text)))
    started = time.monotonic()
    run_source("import time\nprint('a')\nprint('b')\ntime.sleep(0.3)\nprint('c')", ctx)
    assert "".join(text for _, text in seen) == "a\nb\nc\n"
    before_sleep = [text for at, text in seen if at - started < 0.25]
    assert "".join(before_sleep) == "a\nb\n"
    assert time.sleep.__name__ == "sleep"  # the hook is gone again


def test_runaway_output_is_truncated_once() -> None:
    _, out = run_collecting(f"print('x' * {MAX_OUTPUT + 10})\nprint('more')")
    text = joined(out, "stdout")
    assert text.endswith("[output truncated: more than 2,000,000 characters]\n")
    assert len(text) < MAX_OUTPUT + 100


def test_input_gets_end_of_file_instead_of_blocking() -> None:
    with pytest.raises(EOFError):
        run_source("input('name? ')", TaskContext())


def test_the_persons_exception_comes_back_with_a_traceback_of_their_code() -> None:
    outcome = bridge.run("run_code", {"code": "def f():\n    return 1 / 0\n\nf()"})
    assert outcome["name"] == "ZeroDivisionError"
    assert outcome["message"] == "division by zero"
    traceback = str(outcome["traceback"])
    assert traceback.startswith('Traceback (most recent call last):\n  File "<code>", line 4')
    assert 'File "<code>", line 2, in f\n    return 1 / 0\n' in traceback
    assert "offload" not in traceback


def test_a_syntax_error_says_where() -> None:
    outcome = bridge.run("run_code", {"code": "x = (1,\n"})
    assert outcome["name"] == "SyntaxError"
    assert "was never closed" in str(outcome["message"])
    assert 'File "<code>", line 1' in str(outcome["traceback"])


def test_each_run_has_a_fresh_namespace() -> None:
    run_task("run_code", {"code": "leak = 1"})
    outcome = bridge.run("run_code", {"code": "leak"})
    assert outcome["name"] == "NameError"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "missing parameter 'code'"),
        ({"code": 42}, "code must be a string, got int"),
        ({"code": "x" * (MAX_CODE + 1)}, "code is 100_001 characters long; the limit is 100_000"),
        ({"code": "1", "timeout": 3}, "unknown parameter 'timeout'"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        run_task("run_code", params)
