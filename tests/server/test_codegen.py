"""The JavaScript types of both protocols are generated from Python and cannot drift from it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from server.protocol import (
    CLIENT_MESSAGES,
    MAX_JOB_SLOTS,
    SERVER_MESSAGES,
    JobsJoinMessage,
    StoredResult,
)
from support.codegen import GENERATED, ROOT, SOCKET_PROTOCOL_JS, socket_protocol_js, task_schema_js

SOCKET_TYPES = {*CLIENT_MESSAGES, *SERVER_MESSAGES}
# Socket types that are also everyday words (DOM ids "result" and "peers", an "error" event, the
# page's `?server=` query parameter) count only where a message's type is written, e.g.
# `type: "result"` or `case "error":`.
WORDS = {"result", "error", "peers", "server"}
AS_A_TYPE = re.compile(r"""(?:\btype\s*(?::|===?)\s*|\bcase\s+)["'`]([a-z_]+)["'`]""")
COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
# The page's and the benchmark's own modules: none may spell a socket message type itself. The
# benchmark's bare Pyodide worker speaks its own two-message protocol (`ready`, `result`).
BARE_WORKER = {"bench/web/baseline.js", "bench/web/workers/bare-worker.js"}
PAGE_MODULES = sorted(
    path
    for folder in (ROOT / "web", ROOT / "bench" / "web")
    for path in folder.rglob("*.js")
    if path != SOCKET_PROTOCOL_JS and str(path.relative_to(ROOT)) not in BARE_WORKER
)


@pytest.mark.parametrize("path", GENERATED, ids=lambda path: str(path.relative_to(ROOT)))
def test_each_generated_file_is_what_its_python_definition_produces(path: Path) -> None:
    assert path.read_text() == GENERATED[path](), "run: python -m support.codegen"


def test_the_generated_modules_say_where_they_come_from_and_not_to_edit_them() -> None:
    for text, source in ((socket_protocol_js(), "server/protocol.py"), (task_schema_js(), "py/")):
        first = text.splitlines()[0]
        assert source in first
        assert "do not edit" in first


def test_every_message_has_a_constant_and_a_typedef_and_belongs_to_its_union() -> None:
    text = socket_protocol_js()
    for direction, models in (("Client", CLIENT_MESSAGES), ("Server", SERVER_MESSAGES)):
        union = re.search(rf"@typedef \{{([^}}]*)\}} {direction}Message\b", text)
        assert union is not None
        for kind, model in models.items():
            assert f'  {kind.upper()}: "{kind}",' in text
            assert (
                f"@typedef {{object}} {model.__name__}\n * @property {{{kind!r}}} type".replace(
                    "'", '"'
                )
                in text
            )
            assert model.__name__ in union.group(1).split()


def test_a_page_may_leave_out_defaulted_fields_but_the_server_always_sends_them() -> None:
    text = socket_protocol_js()
    assert "@property {number} [slots]" in text  # jobs_join: the server defaults it to 1
    assert "@property {boolean} duplicate\n" in text  # ack: always sent


def test_the_task_schema_typedefs_keep_optional_bounds_optional() -> None:
    text = task_schema_js()
    assert "@property {number} [minimum]" in text
    assert '@property {"integer" | "number" | "string" | "range" | "bytes"} kind' in text


@pytest.mark.parametrize("path", PAGE_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_page_or_bench_module_spells_a_socket_message_type(path: Path) -> None:
    code = COMMENTS.sub("", path.read_text())
    literals = set(re.findall(r"""["'`]([a-z_]+)["'`]""", code)) & (SOCKET_TYPES - WORDS)
    typed = set(AS_A_TYPE.findall(code)) & SOCKET_TYPES
    assert not literals | typed, "import ClientType / ServerType from web/socket/protocol.js"


def test_the_job_slot_cap_is_the_protocol_s_own() -> None:
    assert f"export const MAX_JOB_SLOTS = {MAX_JOB_SLOTS};" in socket_protocol_js()
    assert JobsJoinMessage(slots=MAX_JOB_SLOTS).slots == MAX_JOB_SLOTS
    with pytest.raises(ValidationError):
        JobsJoinMessage(slots=MAX_JOB_SLOTS + 1)


def test_fields_lists_every_message_s_field_names_both_ways_in_declared_order() -> None:
    fields = frozen_object(socket_protocol_js(), "FIELDS")
    models = {**CLIENT_MESSAGES, **SERVER_MESSAGES}
    assert fields == {kind: list(model.model_fields) for kind, model in models.items()}
    assert fields["peer_result"] == ["type", "result"]
    stored = frozen_object(socket_protocol_js(), "STORED_RESULT_FIELDS")
    assert stored == list(StoredResult.model_fields)


def frozen_object(text: str, name: str) -> Any:
    """The value of `export const NAME = Object.freeze(...)` in generated JS, read as JSON."""
    found = re.search(rf"^export const {name} = (.*?);$", text, re.DOTALL | re.MULTILINE)
    assert found is not None, name
    value = found.group(1).replace("Object.freeze(", "").replace(")", "")
    value = re.sub(r"^(\s*)([a-z_]+):", r'\1"\2":', value, flags=re.MULTILINE)
    return json.loads(re.sub(r",(\s*[\]}])", r"\1", value))
