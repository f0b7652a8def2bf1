"""The socket protocol's JSON Schema (docs/socket-protocol.schema.json), from server/protocol.py.

Build-time only: `python -m support.codegen` writes it with the other generated files. The JSON
Schema is generated, never edited; tests/server/test_schema.py fails when the file in docs/
differs from what the models produce, and checks the example exchange in docs/socket-protocol.md
against the models, so neither can drift from the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from server.protocol import CLIENT_MESSAGES, PROTOCOL_VERSION, SERVER_MESSAGES, StoredResult

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "socket-protocol.schema.json"


def protocol_schema() -> dict[str, Any]:
    """One JSON Schema document: every client and server message, by `type`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Offload socket protocol, version {PROTOCOL_VERSION}",
        "client_to_server": {k: m.model_json_schema() for k, m in CLIENT_MESSAGES.items()},
        "server_to_client": {k: m.model_json_schema() for k, m in SERVER_MESSAGES.items()},
        "GET /api/results": TypeAdapter(list[StoredResult]).json_schema(),
    }


def render() -> str:
    """The schema file's exact text."""
    return json.dumps(protocol_schema(), indent=2, sort_keys=True) + "\n"
