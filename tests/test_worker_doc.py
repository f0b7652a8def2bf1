"""docs/worker-protocol.md cannot drift: its example exchange is checked against the code.

Every message's type must be one worker/protocol.js defines (requests from the page, replies from
the worker), and every `run` request in the example is run natively through offload.bridge (the
worker's Python half), whose outcome must be the reply the doc shows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from offload import bridge
from offload.tasks import TASKS

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "worker-protocol.md").read_text()
PROTOCOL_JS = (ROOT / "worker" / "protocol.js").read_text()
EXCHANGE = re.search(r"An example exchange.*?```text\n(.*?)```", DOC, re.DOTALL)
LINE = re.compile(r"^(page|worker)\s+→ (\{.*\})(?:\s+//.*)?$")


def kinds(name: str) -> set[str]:
    """The type strings of `export const <name> = Object.freeze({...})` in worker/protocol.js."""
    block = re.search(rf"export const {name} = Object\.freeze\(\{{(.*?)\}}\);", PROTOCOL_JS, re.S)
    assert block is not None, f"worker/protocol.js has no {name}"
    return set(re.findall(r'^\s+[A-Z_]+: "(\w+)",$', block.group(1), re.MULTILINE))


def messages() -> list[tuple[str, str, dict[str, Any] | None]]:
    """(sender, type, message or None where the doc abbreviates it) for each line of the example."""
    assert EXCHANGE is not None, "the doc has no example exchange"
    found = []
    for line in EXCHANGE.group(1).splitlines():
        match = LINE.match(line.strip())
        if match is None:
            continue
        sender, text = match.groups()
        kind = re.search(r'"type": "(\w+)"', text)
        assert kind is not None, f"no type in {line!r}"
        try:
            message = json.loads(text)
        except ValueError:
            message = None  # abbreviated: a buffer or "…" stands for what is too long to show
        found.append((sender, kind.group(1), message))
    return found


MESSAGES = messages()
RUNS = [m for sender, kind, m in MESSAGES if kind == "run" and m is not None]
FINAL = {m["id"]: m for _, kind, m in MESSAGES if m and kind in ("result", "error", "cancelled")}


def test_the_example_shows_every_kind_of_final_reply_but_a_crash() -> None:
    assert {kind for _, kind, _ in MESSAGES} >= {"init", "ready", "run", "progress", "result"}
    assert {m["type"] for m in FINAL.values()} == {"result", "error", "cancelled"}


@pytest.mark.parametrize(("sender", "kind", "message"), MESSAGES)
def test_every_message_is_one_worker_protocol_js_defines(
    sender: str, kind: str, message: dict[str, Any] | None
) -> None:
    assert kind in (kinds("Request") if sender == "page" else kinds("Reply"))


def test_every_run_is_answered_once_in_the_example() -> None:
    assert sorted(FINAL) == sorted(run["id"] for run in RUNS)


@pytest.mark.parametrize("run", RUNS, ids=lambda run: f"run {run['id']}")
def test_each_run_gets_the_reply_the_doc_shows(run: dict[str, Any]) -> None:
    reply = FINAL[run["id"]]
    if reply["type"] == "cancelled":
        # Cancelled half-way in the doc; natively it would run to the end, so only check that the
        # task takes these params (a typo would be refused before the first sample).
        task = TASKS[run["task"]]
        for param in task.params:
            assert param.name in run["params"] or not param.required
        return
    progress: list[tuple[int, int]] = []
    outcome = bridge.run(run["task"], run["params"], lambda *p: progress.append(p), None)
    if reply["type"] == "result":
        assert outcome == {"ok": True, "value": reply["value"]}
        shown = [m for _, kind, m in MESSAGES if kind == "progress" and m and m["id"] == run["id"]]
        assert {m["total"] for m in shown} <= {total for _, total in progress}
    else:
        assert outcome["ok"] is False
        assert (outcome["name"], outcome["message"]) == (reply["name"], reply["message"])
        assert str(outcome["traceback"]).startswith("Traceback (most recent call last):")
