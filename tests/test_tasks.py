"""The task registry runs tasks by name and names the tasks that exist when asked for another."""

from __future__ import annotations

import json

import pytest

from offload.params import ParameterError, RangeParam
from offload.tasks import TASKS, Task, UnknownTaskError, describe, run_task


def test_an_unknown_task_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownTaskError, match=r"unknown task 'nope'; the tasks are: .*primes"):
        run_task("nope", {})


def test_params_must_be_a_mapping() -> None:
    with pytest.raises(ParameterError, match="params must be an object, got list"):
        run_task("primes", [1, 2])  # type: ignore[arg-type]


def test_every_task_has_a_summary() -> None:
    assert TASKS
    assert all(task.summary and task.name == name for name, task in TASKS.items())


def test_the_built_in_tasks_are_registered_and_more_may_be_added() -> None:
    # A subset, not the exact list: a developer adding a task must not break this test.
    assert {
        "primes",
        "mandelbrot",
        "montecarlo_pi",
        "run_code",
        "csv_summary",
        "jsonl_summary",
    } <= set(TASKS)


def test_every_task_declares_its_label_and_help_for_the_page() -> None:
    for task in TASKS.values():
        schema = task.schema()
        assert schema["label"], task.name
        assert schema["help"], task.name
        assert set(task.work) <= {param.name for param in task.params}, task.name


def test_a_task_without_a_label_is_shown_by_its_name() -> None:
    bare = Task("bare", "a task with nothing else declared", (), lambda params, ctx: {})
    assert bare.schema()["label"] == "bare"
    assert bare.schema()["help"] == ""


def test_code_parameters_say_their_language_so_the_page_shows_an_editor() -> None:
    (code,) = TASKS["run_code"].params
    assert code.schema()["language"] == "python"


def test_describe_gives_each_task_its_params_and_defaults_as_plain_values() -> None:
    schema = describe()
    assert json.loads(json.dumps(schema)) == schema  # JSON-able: it crosses to the page
    by_name = {task["name"]: task for task in schema}
    assert by_name["mandelbrot"]["returns"] == "bytes"
    assert by_name["primes"]["params"] == [
        {
            "name": "n",
            "kind": "integer",
            "description": "count the primes up to n",
            "default": 2_000_000,
            "required": True,
            "minimum": 0,
            "maximum": 1_000_000_000,
        }
    ]
    assert by_name["run_code"]["defaults"] == {"code": TASKS["run_code"].params[0].default}


def test_every_required_parameter_but_a_file_has_a_default_for_the_form() -> None:
    for task in TASKS.values():
        required = [p for p in task.params if p.required and p.kind != "bytes"]
        assert all(p.default is not None for p in required), task.name


def test_every_range_is_bounded_by_an_integer_param_of_its_own_task() -> None:
    ranges = {}
    for task in TASKS.values():
        for param in task.params:
            if isinstance(param, RangeParam):
                assert param.bound in task.params, task.name  # the bound is the same task's param
                ranges[task.name] = (param.name, param.bound.name)
    assert ranges == {"mandelbrot": ("rows", "height")}  # the one splittable task
