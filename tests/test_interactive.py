"""A person's code asks through the host's console: input() reaches the person, time.sleep goes
through the host (which Cancel can wake), missing packages get a hint; fakes stand in for the
worker's Atomics-based functions."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from offload import bridge
from offload.interactive import Console, installed
from offload.runtime import TaskContext
from offload.tasks.run_code import run_source, run_source_async


class Person:
    """Answers prompts from a list, remembering what was asked."""

    def __init__(self, *answers: str | None) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        return self.answers.pop(0)


def run(code: str, console: Console) -> tuple[str | None, str]:
    out: list[str] = []
    ctx = TaskContext(on_output=lambda _stream, text: out.append(text))
    with installed(console):
        result = run_source(code, ctx)
    return result, "".join(out)


def test_input_asks_the_person_with_the_prompt_and_returns_their_answer() -> None:
    person = Person("Ada", "36")
    code = "name = input('name? ')\nage = int(input('age? '))\nf'{name} is {age}'"
    result, out = run(code, Console(read_line=person))
    assert result == "'Ada is 36'"
    assert person.prompts == ["name? ", "age? "]
    assert out == "name? Ada\nage? 36\n"  # the transcript a terminal would show


def test_what_was_printed_before_the_question_is_sent_before_asking() -> None:
    sent: list[str] = []

    def read_line(prompt: str) -> str:
        sent.append("<asked>")
        return "x"

    ctx = TaskContext(on_output=lambda _s, text: sent.append(text))
    with installed(Console(read_line=read_line)):
        run_source("print('first')\ninput()", ctx)
    assert sent[:2] == ["first\n", "<asked>"]


def test_sys_stdin_lines_are_answers_too() -> None:
    result, _ = run("import sys\nsys.stdin.readline()", Console(read_line=Person("a line")))
    assert result == "'a line\\n'"


def test_without_anyone_to_ask_input_raises_eoferror_saying_why() -> None:
    why = "input() needs a cross-origin isolated page (SharedArrayBuffer); this one is not"
    with pytest.raises(EOFError, match=r"cross-origin isolated"):
        run("input('?')", Console(read_line=None, why_not=why))


def test_no_answer_is_end_of_input() -> None:
    with pytest.raises(EOFError, match="no answer"):
        run("input()", Console(read_line=Person(None)))


def test_time_sleep_goes_through_the_console_after_flushing_output() -> None:
    slept: list[float] = []
    _, out = run(
        "import time\nprint('before')\ntime.sleep(2)\ntime.sleep(0)",
        Console(sleep=slept.append),
    )
    assert slept == [2.0, 0.0]
    assert out == "before\n"
    assert time.sleep.__name__ == "sleep"  # restored


def test_a_cancel_raised_inside_sleep_reaches_the_code_as_keyboard_interrupt() -> None:
    def cancelled(_seconds: float) -> None:
        raise KeyboardInterrupt

    with installed(Console(sleep=cancelled)):
        outcome = bridge.run("run_code", {"code": "import time\ntime.sleep(30)"})
    assert outcome["name"] == "KeyboardInterrupt"


def test_a_sleep_woken_by_sigint_raises_keyboard_interrupt_from_pythons_handler() -> None:
    # The worker's sleep returns the signal it took out of the interrupt buffer (worker/console.js).
    with installed(Console(sleep=lambda _seconds: signal.SIGINT)):
        outcome = bridge.run("run_code", {"code": "import time\ntime.sleep(30)"})
    assert outcome["name"] == "KeyboardInterrupt"


def test_a_sleep_woken_by_a_signal_whose_handler_returns_sleeps_on() -> None:
    asked: list[float] = []

    def woken_once(seconds: float) -> int:
        asked.append(seconds)
        return signal.SIGINT if len(asked) == 1 else 0

    code = (
        "import signal, time\n"
        "seen = []\n"
        "signal.signal(signal.SIGINT, lambda *a: seen.append(1))\n"
        "try:\n"
        "    time.sleep(30)\n"
        "finally:\n"
        "    signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "seen"
    )
    result, _ = run(code, Console(sleep=woken_once))
    assert result == "[1]"
    assert len(asked) == 2
    assert 29 < asked[1] <= 30  # the rest of the 30 s, as time.sleep does after a signal


@pytest.mark.parametrize(
    ("argument", "error"),
    [("-1", ValueError), ("'1'", TypeError), ("float('nan')", ValueError)],
)
def test_sleep_checks_its_argument_like_time_sleep(argument: str, error: type) -> None:
    with pytest.raises(error):
        run(f"import time\ntime.sleep({argument})", Console(sleep=lambda _s: None))


def test_an_unknown_package_says_how_to_add_it_to_the_wheelhouse() -> None:
    console = Console(wheelhouse=("mpmath", "sympy"))
    with pytest.raises(ModuleNotFoundError) as caught:
        run("import not_a_real_package_xyz", console)
    message = str(caught.value)
    assert "'not_a_real_package_xyz'" in message
    assert "served: mpmath, sympy" in message
    assert "`wheelhouse` dependency group in pyproject.toml" in message
    assert "python3 build.py build" in message
    assert caught.value.name == "not_a_real_package_xyz"


def test_natively_a_missing_module_keeps_pythons_own_message() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"^No module named 'not_a_real_package_xyz'$"):
        run("import not_a_real_package_xyz", Console())


def test_the_hint_keeps_the_traceback_in_the_persons_code() -> None:
    with installed(Console(wheelhouse=())):
        outcome = bridge.run("run_code", {"code": "x = 1\nimport nope_nope"})
    assert outcome["name"] == "ModuleNotFoundError"
    assert 'File "<code>", line 2' in str(outcome["traceback"])


def test_top_level_await_runs_in_the_async_runner() -> None:
    code = "import asyncio\nawait asyncio.sleep(0)\nx = await asyncio.sleep(0, 21)\nx * 2"
    assert asyncio.run(run_source_async(code, TaskContext())) == "42"
    outcome = asyncio.run(
        bridge.run_async("run_code", {"code": "await __import__('asyncio').sleep(0, 'ok')"})
    )
    assert outcome == {"ok": True, "value": {"result_repr": "'ok'", "value": "ok"}}


def test_the_sync_runner_says_await_needs_a_function() -> None:
    with pytest.raises(SyntaxError, match="'await' outside function"):
        run_source("import asyncio\nawait asyncio.sleep(0)", TaskContext())


def test_the_async_bridge_runs_other_tasks_as_the_sync_one_does() -> None:
    assert asyncio.run(bridge.run_async("primes", {"n": 100})) == bridge.run("primes", {"n": 100})
