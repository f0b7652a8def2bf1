"""offload.warmup: the snapshot maker's small runs of the tasks (docs/startup.md)."""

from __future__ import annotations

import random

import pytest

from offload import warmup
from offload.tasks import TASKS


def test_every_step_runs_and_changes_no_global_state() -> None:
    state = random.getstate()
    assert all(warmup.step(index) for index in range(warmup.count()))
    assert random.getstate() == state


def test_it_warms_every_task_but_the_person_s_own_code() -> None:
    assert {name for name, _ in warmup.STEPS} == set(TASKS) - {"run_code"}


def test_steps_cycle_through_the_runs() -> None:
    assert warmup.count() == len(warmup.STEPS) * warmup.ROUNDS
    assert warmup.step(-1)
    assert warmup.step(warmup.count() + 3)


def test_an_interrupted_step_says_so_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(warmup, "run_task", interrupted)
    assert warmup.step(0) is False
