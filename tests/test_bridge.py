"""The worker's Python half turns every outcome (value, error, interrupt) into plain values."""

from __future__ import annotations

from offload import bridge


def test_a_result_comes_back_as_ok_with_its_value() -> None:
    assert bridge.run("primes", {"n": 100}) == {"ok": True, "value": {"count": 25}}


def test_progress_reaches_the_callback() -> None:
    seen: list[tuple[int, int]] = []
    bridge.run("primes", {"n": 300_000}, lambda done, total: seen.append((done, total)))
    assert seen[-1] == (299_999, 299_999)


def test_a_bad_parameter_becomes_an_error_outcome_with_type_and_message() -> None:
    outcome = bridge.run("primes", {"n": "x"})
    assert outcome["ok"] is False
    assert outcome["name"] == "ParameterError"
    assert outcome["message"] == "primes: n must be an integer, got 'x'"
    assert str(outcome["traceback"]).endswith(
        "ParameterError: primes: n must be an integer, got 'x'\n"
    )


def test_the_traceback_starts_at_the_task_not_at_the_bridge() -> None:
    outcome = bridge.run("primes", {"n": "x"})
    traceback = str(outcome["traceback"])
    assert "offload/tasks/primes.py" in traceback
    assert "bridge.py" not in traceback


def test_an_unknown_task_is_an_error_outcome() -> None:
    outcome = bridge.run("nope", {})
    assert outcome["name"] == "UnknownTaskError"
    assert "the tasks are" in str(outcome["message"])


def test_keyboard_interrupt_is_reported_not_raised(monkeypatch) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bridge, "run_task", interrupted)
    outcome = bridge.run("primes", {"n": 1})
    assert outcome["name"] == "KeyboardInterrupt"
    assert outcome["traceback"] == ""  # a cancel has none: formatting one would only delay it


def test_printed_output_reaches_the_output_callback() -> None:
    seen: list[tuple[str, str]] = []
    outcome = bridge.run(
        "run_code", {"code": "print('hi')\n2 + 2"}, None, lambda s, t: seen.append((s, t))
    )
    assert outcome == {"ok": True, "value": {"result_repr": "4", "value": 4}}
    assert seen == [("stdout", "hi\n")]


def test_bytes_results_stay_bytes() -> None:
    outcome = bridge.run("mandelbrot", {"width": 2, "height": 2, "max_iter": 5})
    assert isinstance(outcome["value"], bytes)
    assert len(outcome["value"]) == 16


def test_tasks_lists_every_task_schema() -> None:
    assert [task["name"] for task in bridge.tasks()] == [
        "primes",
        "mandelbrot",
        "montecarlo_pi",
        "run_code",
        "csv_summary",
        "jsonl_summary",
    ]
