"""TaskContext throttles progress to a fixed rate but always delivers the final report."""

from __future__ import annotations

from offload import progress, reporting
from offload.runtime import TaskContext


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reports_closer_than_the_interval_are_dropped() -> None:
    clock = FakeClock()
    seen: list[int] = []
    ctx = TaskContext(lambda done, total: seen.append(done), min_interval=1.0, clock=clock)
    for done in range(100):
        clock.now = done * 0.25  # four reports a second, for 25 seconds (exact binary fractions)
        ctx.progress(done, 1000)
    assert seen == list(range(0, 100, 4))


def test_the_final_report_is_never_dropped() -> None:
    clock = FakeClock()
    seen: list[tuple[int, int]] = []
    ctx = TaskContext(lambda d, t: seen.append((d, t)), min_interval=10, clock=clock)
    ctx.progress(1, 50)
    ctx.progress(2, 50)
    ctx.progress(50, 50)
    assert seen == [(1, 50), (50, 50)]
    assert ctx.reports_sent == 2


def test_output_is_sent_at_once_then_batched_until_the_interval_passes() -> None:
    clock = FakeClock()
    seen: list[tuple[str, str]] = []
    ctx = TaskContext(on_output=lambda s, t: seen.append((s, t)), min_interval=1.0, clock=clock)
    stream = ctx.output_stream("stdout")
    stream.write("a\n")
    stream.write("b\n")
    stream.write("c\n")
    assert seen == [("stdout", "a\n")]
    clock.now = 1.0
    stream.write("d\n")
    assert seen == [("stdout", "a\n"), ("stdout", "b\nc\nd\n")]
    stream.write("e")
    stream.flush()
    assert seen[-1] == ("stdout", "e")


def test_output_without_a_sink_is_discarded() -> None:
    stream = TaskContext().output_stream("stderr")
    assert stream.write("nobody listens") == 14
    stream.flush()


def test_a_tenth_of_the_work_is_reported_even_within_the_interval() -> None:
    clock = FakeClock()
    seen: list[int] = []
    ctx = TaskContext(lambda done, total: seen.append(done), min_interval=10, clock=clock)
    for done in range(1, 101):
        ctx.progress(done, 100)  # all at the same instant, as a very fast task would
    assert seen == [1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100]


def test_progress_outside_any_run_does_nothing() -> None:
    progress(1, 2)  # natively, with no hook: a no-op, so the same code runs anywhere


def test_progress_reaches_the_hook_of_a_reporting_block_and_only_inside_it() -> None:
    seen: list[tuple[int, int]] = []
    with reporting(lambda done, total: seen.append((done, total))):
        progress(1, 4)
        progress(4, 4)
    progress(5, 4)
    assert seen == [(1, 4), (4, 4)]
