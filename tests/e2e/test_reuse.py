"""What a developer reusing Offload does: load the minimal example page, then add a task of their
own in a copy of the repository, rebuild, and call it from their own page (a copy of the example).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support import ROOT, PageProblems, RunningServer, ServerFactory

# What build.py needs from the repository; the big, unchanged parts are linked, not copied.
# build.py generates the page's protocol modules from server/ (and the schema into docs/), and
# finds the browser through support/.
COPIED = (
    *("build.py", "pyproject.toml", "package.json", "package-lock.json"),
    *("web", "worker", "py", "server", "support", "docs"),
)
LINKED = (".venv", "node_modules", ".cache")

NEW_TASK = '''"""Greets someone: the task a developer adds in the README's "Reusing it"."""

from __future__ import annotations

from collections.abc import Mapping

from offload.params import TextParam, reject_unknown_params
from offload.runtime import TaskContext

NAME = TextParam("name", "who to greet", "world", max_length=100)
PARAMS = (NAME,)


def run(params: Mapping[str, object], ctx: TaskContext) -> dict[str, object]:
    reject_unknown_params("greet", params, PARAMS)
    return {"greeting": f"Hello, {NAME.read('greet', params)}!"}
'''

REGISTRATION = """
from offload.tasks import greet  # noqa: E402

TASKS["greet"] = Task("greet", "say hello", greet.PARAMS, greet.run, label="Greet", help="Hi.")
"""


def click_run_and_read_result(page: Page) -> str:
    button = page.locator("#run")
    expect(button).to_be_enabled(timeout=120_000)
    button.click()
    expect(page.locator("#status")).to_contain_text("finished", timeout=60_000)
    return page.locator("#result").inner_text()


def test_the_minimal_example_page_runs_a_task_in_a_worker(
    page: Page, server: RunningServer, problems: PageProblems
) -> None:
    page.goto(f"{server.origin}/web/examples/minimal.html")
    assert '"count": 78498' in click_run_and_read_result(page)
    assert problems.all == []


def test_a_task_added_in_a_copy_of_the_repository_is_called_from_the_developers_page(
    page: Page, server_factory: ServerFactory, problems: PageProblems, tmp_path: Path
) -> None:
    copy = tmp_path / "offload"
    copy.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    for name in LINKED:
        (copy / name).symlink_to(ROOT / name)

    # 1. The task: a module, and one registration in the registry.
    (copy / "py/offload/tasks/greet.py").write_text(NEW_TASK)
    with (copy / "py/offload/tasks/__init__.py").open("a") as registry:
        registry.write(REGISTRATION)
    # 2. The page: a copy of the example, in web/ (served at /web/), calling the new task.
    script = (ROOT / "web/examples/minimal.js").read_text()
    script = script.replace('const TASK = "primes";', 'const TASK = "greet";')
    script = script.replace("const PARAMS = { n: 1_000_000 };", 'const PARAMS = { name: "Ada" };')
    script = script.replace('"../../worker/client.js"', '"../worker/client.js"')
    assert 'TASK = "greet"' in script, "the example no longer has the lines the README edits"
    (copy / "web/greet.js").write_text(script)
    page_html = (ROOT / "web/examples/minimal.html").read_text().replace("minimal.js", "greet.js")
    (copy / "web/greet.html").write_text(page_html)
    # 3. Rebuild, as the README says.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    built = subprocess.run(
        [sys.executable, "build.py", "build"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr

    own = server_factory(extra_args=["--dist", str(copy / "dist")])
    page.goto(f"{own.origin}/web/greet.html")
    assert '"greeting": "Hello, Ada!"' in click_run_and_read_result(page)
    # The new task looks native in the main page's form too: its label comes from Python.
    page.goto(own.url)
    page.locator("#worker-status[data-state='ready']").wait_for(timeout=120_000)
    expect(page.get_by_label("Task").locator("option", has_text="Greet")).to_have_count(1)
    assert problems.all == []
