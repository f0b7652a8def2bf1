"""The protocol's docs cannot drift: the schema file is generated, the examples are validated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from offload.tasks import run_task
from offload.tasks.montecarlo import count_inside
from server.jobs import chunk_seed
from server.protocol import CLIENT_MESSAGES, SERVER_MESSAGES, ProtocolError, parse_client_message
from support.json_schema import SCHEMA_PATH, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "socket-protocol.md"
EXAMPLE = re.compile(r"```json (client|server|invalid)\n(.*?)```", re.DOTALL)
ALL_EXAMPLES = EXAMPLE.findall(DOC.read_text())
EXAMPLES = [(d, text) for d, text in ALL_EXAMPLES if d != "invalid"]
INVALID = [text for d, text in ALL_EXAMPLES if d == "invalid"]


def test_the_schema_file_is_what_the_models_generate() -> None:
    assert SCHEMA_PATH.read_text() == render(), "run: python -m support.codegen"


def test_the_doc_has_examples_both_ways() -> None:
    assert {direction for direction, _ in EXAMPLES} == {"client", "server"}


@pytest.mark.parametrize(("direction", "text"), EXAMPLES)
def test_every_example_in_the_doc_is_a_valid_message(direction: str, text: str) -> None:
    data = json.loads(text)
    table = CLIENT_MESSAGES if direction == "client" else SERVER_MESSAGES
    table[data["type"]].model_validate(data)


def test_the_doc_lists_every_message_type() -> None:
    doc = DOC.read_text()
    for kind in [*CLIENT_MESSAGES, *SERVER_MESSAGES]:
        assert f"| `{kind}` |" in doc


def test_the_doc_s_bad_message_gets_exactly_the_error_it_shows() -> None:
    (bad,) = INVALID
    shown = next(json.loads(t) for d, t in ALL_EXAMPLES if d == "server" and '"error"' in t)
    with pytest.raises(ProtocolError) as error:
        parse_client_message(bad)
    assert error.value.to_message().model_dump() == shown


def test_the_doc_s_chunk_is_what_the_board_hands_out() -> None:
    chunk = next(json.loads(t) for d, t in EXAMPLES if '"job_chunk"' in t)
    assert chunk["params"]["seed"] == chunk_seed(42, 0)
    assert chunk_result_inside() == count_inside(1_000_000, chunk_seed(42, 0))


def chunk_result_inside() -> int:
    result = next(json.loads(t) for d, t in EXAMPLES if '"chunk_result"' in t)
    inside: int = result["result"]["inside"]
    return inside


def test_the_doc_s_results_are_what_their_tasks_compute_with_those_params() -> None:
    shown = [json.loads(text) for _, text in EXAMPLES]
    results = [m for m in shown if m["type"] == "result"]
    results += [m["result"] for m in shown if m["type"] == "peer_result"]
    assert results
    for message in results:
        assert run_task(message["task"], message["params"]) == message["result"]
