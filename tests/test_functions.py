"""A developer's own module, added at run time, and its functions called by dotted name."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from offload import bridge, functions

MYMOD = '''"""A developer's module."""
from offload import progress


def add(a, b=0, *, scale=1):
    return (a + b) * scale


def count(n):
    for i in range(n):
        progress(i + 1, n)
    print("counted", n)
    return list(range(n))


def reverse(data):
    return data[::-1]


def fail(x):
    return 1 / x


def odd():
    return {1, 2}


NOT_A_FUNCTION = 3
'''


@pytest.fixture
def mymod(tmp_path: Path) -> Iterator[str]:
    name = functions.add_module("mymod_for_tests.py", MYMOD, folder=tmp_path)
    yield name
    sys.modules.pop(name, None)
    sys.path.remove(str(tmp_path))


def test_an_added_module_is_importable_and_its_function_returns_a_plain_value(mymod: str) -> None:
    assert bridge.call(f"{mymod}.add", [2, 3], {"scale": 10}) == {"ok": True, "value": 50}


def test_bytes_arrive_as_bytes_and_go_back_as_bytes(mymod: str) -> None:
    outcome = bridge.call(f"{mymod}.reverse", [memoryview(b"abc")])
    assert outcome == {"ok": True, "value": b"cba"}


def test_progress_and_print_in_the_function_reach_the_callbacks(mymod: str) -> None:
    progress: list[tuple[int, int]] = []
    output: list[tuple[str, str]] = []
    outcome = bridge.call(
        f"{mymod}.count",
        [3],
        None,
        lambda done, total: progress.append((done, total)),
        lambda stream, text: output.append((stream, text)),
    )
    assert outcome == {"ok": True, "value": [0, 1, 2]}
    assert progress[-1] == (3, 3)
    assert output == [("stdout", "counted 3\n")]


def test_a_missing_module_is_a_missing_module_error_saying_how_to_add_it() -> None:
    outcome = bridge.call("nosuchmod.fn", [])
    assert outcome["name"] == "MissingModuleError"
    assert "no module named 'nosuchmod'" in str(outcome["message"])
    assert 'modules: ["./nosuchmod.py"]' in str(outcome["message"])


def test_a_missing_function_is_a_missing_function_error_listing_the_functions(mymod: str) -> None:
    outcome = bridge.call(f"{mymod}.nope", [])
    assert outcome["name"] == "MissingFunctionError"
    assert "has no function 'nope'" in str(outcome["message"])
    assert "add, count, fail" in str(outcome["message"])
    outcome = bridge.call(f"{mymod}.NOT_A_FUNCTION", [])
    assert outcome["name"] == "MissingFunctionError"
    assert "is a int, not a function" in str(outcome["message"])
    assert bridge.call("add", [])["name"] == "MissingFunctionError"  # no module named


def test_a_bad_argument_is_an_argument_error_before_the_body_runs(mymod: str) -> None:
    output: list[tuple[str, str]] = []
    outcome = bridge.call(f"{mymod}.count", [], None, None, lambda s, t: output.append((s, t)))
    assert outcome["name"] == "ArgumentError"
    assert outcome["message"] == f"{mymod}.count(n): missing a required argument: 'n'"
    assert output == []
    outcome = bridge.call(f"{mymod}.add", [1], {"colour": "red"})
    assert "unexpected keyword argument 'colour'" in str(outcome["message"])


def test_an_exception_in_the_function_has_its_own_type_and_a_traceback_in_its_file(
    mymod: str,
) -> None:
    outcome = bridge.call(f"{mymod}.fail", [0])
    assert outcome["name"] == "ZeroDivisionError"
    traceback = str(outcome["traceback"])
    assert traceback.splitlines()[1].startswith(f'  File "{sys.path[0]}/{mymod}.py", line 21')
    assert "bridge.py" not in traceback
    assert "functions.py" not in traceback


def test_a_value_that_is_no_plain_data_is_a_result_error(mymod: str) -> None:
    outcome = bridge.call(f"{mymod}.odd", [])
    assert outcome["name"] == "ResultError"
    assert "returned a set, which is not plain data" in str(outcome["message"])


def test_a_cancel_in_the_function_is_reported_as_a_cancel(mymod: str) -> None:
    def interrupted(done: int, total: int) -> None:
        raise KeyboardInterrupt

    outcome = bridge.call(f"{mymod}.count", [2], None, interrupted)
    assert outcome["name"] == "KeyboardInterrupt"


def test_an_import_error_inside_the_module_is_the_modules_own(tmp_path: Path) -> None:
    name = functions.add_module("broken_for_tests.py", "import not_there_at_all\n", folder=tmp_path)
    try:
        outcome = bridge.call(f"{name}.fn", [])
    finally:
        sys.path.remove(str(tmp_path))
    assert outcome["name"] == "ModuleNotFoundError"
    assert "broken_for_tests.py" in str(outcome["traceback"]).splitlines()[1]


def test_a_module_file_name_must_be_an_identifier(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"<identifier>\.py"):
        functions.add_module("my-mod.py", "", folder=tmp_path)


def test_adding_a_module_again_replaces_the_one_imported(mymod: str, tmp_path: Path) -> None:
    assert bridge.call(f"{mymod}.add", [1, 1])["value"] == 2
    functions.add_module(f"{mymod}.py", "def add(a, b):\n    return a - b\n", folder=tmp_path)
    assert bridge.call(f"{mymod}.add", [1, 1])["value"] == 0


def test_an_argument_error_shows_the_signature_without_annotations(tmp_path: Path) -> None:
    source = "from __future__ import annotations\n\ndef f(n: int, *, k: str = 'a') -> int: ...\n"
    name = functions.add_module("annotated_for_tests.py", source, folder=tmp_path)
    try:
        outcome = bridge.call(f"{name}.f", ["x", "y"])
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)
    assert outcome["name"] == "ArgumentError"
    assert outcome["message"] == f"{name}.f(n, *, k='a'): too many positional arguments"
