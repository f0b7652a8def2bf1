"""The task registry runs tasks by name and names the tasks that exist when asked for another."""

from __future__ import annotations

import pytest

from offload.params import ParameterError
from offload.tasks import TASKS, UnknownTaskError, run_task


def test_an_unknown_task_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownTaskError, match=r"unknown task 'nope'; the tasks are: .*primes"):
        run_task("nope", {})


def test_params_must_be_a_mapping() -> None:
    with pytest.raises(ParameterError, match="params must be an object, got list"):
        run_task("primes", [1, 2])  # type: ignore[arg-type]


def test_every_task_has_a_summary() -> None:
    assert TASKS
    assert all(task.summary and task.name == name for name, task in TASKS.items())
