"""What a person's own code (run_code) gets from whoever hosts it: `input()` that asks the person,
a `time.sleep` that Cancel can end, and the packages the site serves.

The host installs a `Console` once. In the browser the worker passes JavaScript functions that
block in `Atomics.wait` (worker/console.js), natively the default console has nobody to ask and
sleeps with `time.sleep`; tests install fakes. Nothing here imports `js`.
"""

from __future__ import annotations

import io
import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Asks the person: receives the prompt, returns their answer (None: they gave none, end of input).
ReadLine = Callable[[str], "str | None"]
#: Waits this many seconds (non-negative, finite). Returns early with the number of the signal that
#: woke it (a cancel: SIGINT), taken out of the interrupt buffer; else 0 or None. May also raise.
Sleep = Callable[[float], "int | None"]

NOBODY_TO_ASK = "input() has nobody to ask here: only code run in a worker can wait for an answer"


@dataclass(frozen=True)
class Console:
    """The host's side of a person's code.

    Args:
        read_line: asks the person; None when nobody can be asked (then `input()` raises EOFError
            with `why_not`).
        sleep: waits; None means `time.sleep` itself.
        why_not: the reason `read_line` is None, for the EOFError's message.
        wheelhouse: the packages the site serves (None outside the browser, where pip installs
            what is missing); named in the hint of a ModuleNotFoundError.
    """

    read_line: ReadLine | None = None
    sleep: Sleep | None = None
    why_not: str = NOBODY_TO_ASK
    wheelhouse: tuple[str, ...] | None = None


_console = Console()


def install(
    read_line: ReadLine | None,
    sleep: Sleep | None,
    why_not: str = NOBODY_TO_ASK,
    wheelhouse: list[str] | tuple[str, ...] | None = None,
) -> None:
    """Make these the console of every later run (the worker calls this once, after boot)."""
    global _console  # noqa: PLW0603 - one console per interpreter, set by its host
    packages = None if wheelhouse is None else tuple(sorted(wheelhouse))
    # callable(): a host's "nothing" may not be None (Pyodide turns a JavaScript null into jsnull).
    _console = Console(
        read_line if callable(read_line) else None,
        sleep if callable(sleep) else None,
        why_not,
        packages,
    )


def current() -> Console:
    """The installed console."""
    return _console


@contextmanager
def installed(console: Console) -> Iterator[None]:
    """Use `console` within the block (tests), then the one before."""
    global _console  # noqa: PLW0603
    saved, _console = _console, console
    try:
        yield
    finally:
        _console = saved


def make_input(console: Console, stdout: io.TextIOBase) -> Callable[..., str]:
    """A replacement for the builtin `input` that asks through `console`.

    Output printed before the question is flushed first, so the page shows it above the question;
    afterwards the prompt and the answer are written to stdout, as a terminal would show them.
    """

    def ask(prompt: object = "", /) -> str:
        text = str(prompt)
        stdout.flush()
        if console.read_line is None:
            raise EOFError(console.why_not)
        answer = console.read_line(text)
        if not isinstance(answer, str):
            raise EOFError("no answer was given (end of input)")
        line = answer.split("\n", 1)[0].removesuffix("\r")
        stdout.write(f"{text}{line}\n")
        return line

    return ask


class InputStream(io.TextIOBase):
    """`sys.stdin` for a person's code: each line read asks the console (with no prompt)."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
        if self._console.read_line is None:
            return ""  # end of file, like a closed stdin
        answer = self._console.read_line("")
        return answer.split("\n", 1)[0] + "\n" if isinstance(answer, str) else ""

    def read(self, size: int | None = -1, /) -> str:
        return self.readline()


def make_sleep(console: Console, before: Callable[[], None]) -> Callable[..., None]:
    """A replacement for `time.sleep` that calls `before` (flushing output), then sleeps through
    the console, with `time.sleep`'s own checks of its argument."""
    sleep = console.sleep or time.sleep

    def checked_sleep(seconds: float, /) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TypeError(
                f"'{type(seconds).__name__}' object cannot be interpreted as an integer or float"
            )
        if math.isnan(seconds):
            raise ValueError("Invalid value NaN (not a number)")
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        before()
        deadline = time.monotonic() + seconds
        left = float(seconds)
        while signum := sleep(left):
            # The host took the signal out of the interrupt buffer, as CPython's own check does,
            # so Python's handler for it runs here: default_int_handler raises KeyboardInterrupt
            # straight from the sleep. (Raising it in the host, through Pyodide's checkInterrupt,
            # turns it into a JavaScript error and back, which made a cancel during a sleep take
            # several times as long as a cancel of a busy loop.) A handler that returns resumes
            # the sleep, as time.sleep does after a signal (PEP 475).
            handler = signal.getsignal(signum)
            if callable(handler):
                handler(signum, None)
            left = deadline - time.monotonic()
            if left <= 0:
                break

    return checked_sleep


def missing_module_hint(name: str, console: Console) -> str | None:
    """What to tell a person whose code imports `name`, a module nobody can load; None natively.

    The site serves only the wheels built into it, so the fix is a line in pyproject.toml and a
    rebuild, never a network fetch.
    """
    if console.wheelhouse is None:
        return None
    served = ", ".join(console.wheelhouse) or "none"
    return (
        f"No module named {name!r}: it is neither in Pyodide's standard library nor in this "
        f"site's wheelhouse (served: {served}). To serve it, add a pinned pure-Python wheel "
        f'such as "{name}==<version>" (and its dependencies) to the `wheelhouse` dependency '
        "group in pyproject.toml, then run `python3 build.py build`."
    )
