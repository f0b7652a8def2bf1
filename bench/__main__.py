"""`python -m bench [--quick] [--json PATH] [--chart PATH] [--results PATH]`: run every
measurement of issue 6, print the table, and write the JSON, the chart and (full runs) RESULTS.md.

Exits 0 whether goals are met or missed (the benchmark reports, it does not judge); exits 1 only
when it could not run at all (no site, no server, no browser).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import chart, data, measure, offline, report, startup
from bench.acks import durable_acks, redis_acks
from bench.browser import launch
from bench.native import available_tasks
from bench.plan import Plan, make_plan
from bench.rows import REPORT, Row, not_measured
from bench.scaleout import scaleout
from bench.server_limits import server_limits
from bench.socket import echo_server
from support.server import DIST, ROOT, RunningServer, free_port

RESULTS = ROOT / "bench" / "RESULTS.md"
README = ROOT / "README.md"
# The rate limiter (100 messages/s per client) would close the RTT and fan-out clients, which send
# as fast as the server answers: the benchmark measures the protocol, not the limiter.
SERVER_ARGS = ["--rate", "1000000", "--burst", "1000000"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (how long: see bench/plan.py)"
    )
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--chart", type=Path, help="write the chart PNG here")
    parser.add_argument(
        "--results",
        type=Path,
        help=f"write the Markdown table here (default for a full run: {RESULTS.relative_to(ROOT)})",
    )
    return parser.parse_args(argv)


def load() -> str:
    """The 1-minute load average, e.g. "2.3"."""
    return f"{os.getloadavg()[0]:.1f}"


def machine(browser_version: str | None, load_before: str) -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    build_info = DIST / "build-info.json"
    info = json.loads(build_info.read_text()) if build_info.exists() else {}
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": f"{memory_gb:.0f} GB",
        "os": platform.platform(terse=True),
        "native Python": platform.python_version(),
        "Pyodide": info.get("pyodide", "?"),
        "Pyodide Python": info.get("python", "?"),
        "Chromium": browser_version or "?",
        "load average before/after": f"{load_before}/{load()}",
    }


class Runner:
    """Runs each measurement, turning a failure into a "not measured" row instead of an abort."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def step(self, title: str, metric: str, measure_rows: Callable[[], list[Row]]) -> None:
        print(f"--> {title}", flush=True)
        started = time.monotonic()
        try:
            rows = measure_rows()
        except Exception as error:
            traceback.print_exc()
            rows = [not_measured(metric, title, REPORT, f"{type(error).__name__}: {error}")]
        for row in rows:
            print(
                f"    {row.metric} / {row.name}: {report.number(row.figure, row.unit)} vs "
                f"{report.number(row.baseline, row.unit)} -> {report.verdict(row)}",
                flush=True,
            )
        print(f"    ({time.monotonic() - started:.1f} s)", flush=True)
        self.rows.extend(rows)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    plan = make_plan(options.quick)
    if not (DIST / "bench" / "web" / "index.html").exists():
        print(
            "error: dist/bench/web/ is missing: run `python3 build.py bench` (it builds first).",
            file=sys.stderr,
        )
        return 1
    started = time.monotonic()
    load_before = load()
    runner = Runner()
    tasks = available_tasks()
    browser_version: str | None = None
    with tempfile.TemporaryDirectory(prefix="offload-bench-") as scratch:
        server = RunningServer(
            port=free_port(),
            data_dir=Path(scratch) / "data",
            log_dir=Path(scratch) / "logs",
            extra_args=SERVER_ARGS,
        )
        try:
            server.start()
        except RuntimeError as error:
            print(f"error: could not start the server: {error}", file=sys.stderr)
            return 1
        try:
            browser_version = browser_rows(runner, server, plan, tasks)
            server_rows(runner, server, plan, Path(scratch))
        except Exception as error:
            traceback.print_exc()
            print(f"error: the benchmark could not run: {error}", file=sys.stderr)
            return 1
        finally:
            server.stop()
    seconds = time.monotonic() - started
    facts = machine(browser_version, load_before)
    caveat = report.busy_note(max(float(load_before), float(load())), os.cpu_count() or 1)
    print()
    print(report.table(runner.rows))
    if caveat:
        print(f"NOTE: {caveat}")
    print(
        f"\n{'quick' if options.quick else 'full'} run in {seconds:.0f} s on "
        + ", ".join(f"{k} {v}" for k, v in facts.items())
    )
    write_outputs(options, runner.rows, facts, seconds, caveat)
    return 0


def browser_rows(runner: Runner, server: RunningServer, plan: Plan, tasks: set[str]) -> str:
    """The rows measured in the benchmark page (one browser); returns the browser's version."""
    with echo_server() as echo_url, launch(server.url) as browser:
        page = browser.page()
        print("--> booting the shared worker and main-thread Pyodide", flush=True)
        page.call("prepare")
        runner.step(
            "Python speed and our overhead",
            "Python speed",
            lambda: measure.python_speed(page, plan, tasks),
        )
        runner.step(
            "frame gap and input delay",
            "frame gap",
            lambda: measure.responsiveness(page, plan),
        )
        runner.step("transfer", "transfer", lambda: measure.transfer(page, plan))
        runner.step("your data", "CSV parse", lambda: data.csv_parse(page, plan))
        runner.step("input bytes", "input bytes", lambda: data.input_transfer(page, plan))
        runner.step("cancel", "cancel latency", lambda: data.cancel_sleep(page, plan))
        runner.step("pool", "pool", lambda: measure.pool(page, plan))
        runner.step(
            "end to end",
            "end to end",
            lambda: measure.end_to_end(page, server.ws_url, plan),
        )
        page.close()
        runner.step("start-up", "start-up", lambda: measure.startup(browser, plan))
        runner.step(
            "start-up from a snapshot, pool from page load",
            "start-up",
            lambda: [
                *startup.snapshot_startup(browser, plan),
                *startup.pool_from_page_load(browser, plan),
            ],
        )
        runner.step("memory", "memory", lambda: measure.memory(browser))
        runner.step("socket RTT", "socket RTT", lambda: measure.socket_rtt(browser, echo_url, plan))
        return browser.version


def server_rows(runner: Runner, server: RunningServer, plan: Plan, scratch: Path) -> None:
    """The rows that need no benchmark page: caches, sockets, acks, scale-out, limits."""
    runner.step(
        "service worker cache",
        "start-up",
        lambda: offline.service_worker_cache(plan, scratch),
    )
    runner.step(
        "socket fan-out",
        "socket fan-out",
        lambda: measure.socket_fanout(server.ws_url, plan),
    )
    runner.step(
        "durable acks",
        "durable acks",
        lambda: [
            *durable_acks((1, 10, 100), 1.0 if plan.quick else 3.0),
            *redis_acks(100, 1.0 if plan.quick else 3.0),
        ],
    )
    runner.step(
        "scale-out over Redis",
        "scale-out",
        lambda: scaleout(*((100, 100, 30) if plan.quick else (300, 200, 50))),
    )
    runner.step("server limits", "connections", lambda: server_limits(plan.quick))


def write_outputs(
    options: argparse.Namespace,
    rows: list[Row],
    facts: dict[str, object],
    seconds: float,
    caveat: str | None,
) -> None:
    """The JSON, the chart and the Markdown, where the options say."""
    command = "python3 build.py bench" + (" --quick" if options.quick else "")
    if options.json:
        document = report.document(rows, facts, options.quick, seconds)
        options.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {options.json}")
    results = options.results or (None if options.quick else RESULTS)
    chart_path = options.chart or (
        results.with_suffix(".png")
        if results
        else options.json.with_suffix(".png")
        if options.json
        else None
    )
    if chart_path:
        title = f"Offload benchmark ({'quick' if options.quick else 'full'} run)"
        chart.draw(rows, title, chart_path)
        print(f"wrote {chart_path}")
    if results:
        text = report.markdown(rows, facts, command, caveat)
        results.write_text(text)
        print(f"wrote {results}")
        if results == RESULTS:  # the README's Performance section shows the committed results
            README.write_text(report.splice_readme(README.read_text(), report.readme_block(text)))
            print(f"updated the Performance section of {README}")


if __name__ == "__main__":
    sys.exit(main())
