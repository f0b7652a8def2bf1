"""`python -m support.codegen`: write every file generated from the Python definitions.

Build-time code, kept out of the server's runtime package. Each protocol is defined once, in
Python, and the other language gets generated types:

- `web/socket/protocol.js` from server/protocol.py: the page <-> server messages as frozen
  constants of their `type` strings, the field names of each message (`FIELDS`), the protocol's
  limits (`MAX_JOB_SLOTS`), and JSDoc typedefs (checked by `tsc`), one per message, the unions
  `ClientMessage` and `ServerMessage`, and every nested model;
- `worker/task-schema.js` from py/offload/schema.py: how the worker describes a task to the page;
- `docs/socket-protocol.schema.json` (support/json_schema.py): the socket protocol's JSON Schema.

`python3 build.py build` runs this (a file is rewritten only when its text changes, so file times
and the build's fingerprint stay put); tests/server/test_codegen.py fails when a checked-in copy is
stale. `--check` only reports stale files (exit 1), writing nothing.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from offload.schema import TaskSchema
from server.protocol import (
    CLIENT_MESSAGES,
    MAX_JOB_SLOTS,
    PROTOCOL_VERSION,
    SERVER_MESSAGES,
    StoredResult,
)
from support import json_schema

ROOT = Path(__file__).resolve().parents[1]
SOCKET_PROTOCOL_JS = ROOT / "web" / "socket" / "protocol.js"
TASK_SCHEMA_JS = ROOT / "worker" / "task-schema.js"

#: Who sends a type decides which fields are optional in JavaScript: a page may leave out a field
#: with a default (the server fills it in); the server always sends every field of its models.
Direction = Literal["client", "server"]
JsonSchema = Mapping[str, Any]
WIDTH = 100
#: Biome's line width for JavaScript (biome.json), which the generated code must keep to.
JS_WIDTH = 120


def generated_header(source: str, purpose: str) -> list[str]:
    """The first lines of a generated file: where it comes from and that it is not to be edited."""
    return [
        f"// Generated from {source} by `python -m support.codegen` — do not edit.",
        *(f"// {line}" for line in textwrap.wrap(purpose, WIDTH - 3, break_on_hyphens=False)),
        "// `python3 build.py build` regenerates it; tests/server/test_codegen.py checks it.",
    ]


class JSDoc:
    """Turns the JSON Schemas pydantic makes into JSDoc typedefs, one per model, named as in Python.

    Nested models are collected from each schema's `$defs` and written once, after the messages.
    """

    def __init__(self) -> None:
        self.typedefs: dict[str, list[str]] = {}
        self.nested: dict[str, tuple[JsonSchema, Direction]] = {}

    def add(self, schema: JsonSchema, direction: Direction, name: str | None = None) -> str:
        """Add the typedef of a model's schema (and of the models it nests); returns its name."""
        for def_name, definition in schema.get("$defs", {}).items():
            self.nested.setdefault(def_name, (definition, direction))
        typedef = name or str(schema["title"])
        self.typedefs[typedef] = self.typedef(typedef, schema, direction)
        return typedef

    def add_nested(self) -> None:
        """Write the typedefs of every nested model met so far (in name order)."""
        for name in sorted(self.nested):
            if name not in self.typedefs:
                definition, direction = self.nested[name]
                self.typedefs[name] = self.typedef(name, definition, direction)

    def typedef(self, name: str, schema: JsonSchema, direction: Direction) -> list[str]:
        description = str(schema.get("description", "")).strip()
        if "properties" not in schema:
            # A free-form value such as pydantic's JsonValue: any JSON the other side sends.
            return comment(
                [description or "Any JSON value.", f"@typedef {{{js_type(schema)}}} {name}"]
            )
        lines = [*paragraphs(description), f"@typedef {{object}} {name}"]
        required = set(schema.get("required", ()))
        for field, field_schema in schema["properties"].items():
            # The server sends every field (defaults included); a page may omit defaulted ones.
            always = field == "type" or (direction == "server" and "default" in field_schema)
            key = field if field in required or always else f"[{field}]"
            note = constraint(field_schema)
            lines.append(
                f"@property {{{js_type(field_schema)}}} {key}{f'  {note}' if note else ''}"
            )
        return comment(lines)

    def render(self) -> list[str]:
        """Every typedef, each a JSDoc block followed by a blank line."""
        out: list[str] = []
        for block in self.typedefs.values():
            out += [*block, ""]
        return out


def js_type(schema: JsonSchema) -> str:
    """The TypeScript type (as JSDoc writes it) of one JSON Schema."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if "anyOf" in schema:
        return " | ".join(js_type(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "null":
        return "null"
    if kind == "array":
        item = js_type(schema.get("items", {}))
        return f"({item})[]" if "|" in item else f"{item}[]"
    if kind == "object":
        values = schema.get("additionalProperties", {})
        return f"Record<string, {js_type(values) if isinstance(values, dict) else 'unknown'}>"
    return "unknown"


def constraint(schema: JsonSchema) -> str:
    """The bounds the server checks, in words, e.g. `1 to 128 characters` or `>= 0`."""
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(schema.get("exclusiveMaximum"), int):
        high = schema["exclusiveMaximum"] - 1
    if low is not None and high is not None:
        return f"{low:_} to {high:_}"
    if low is not None:
        return f">= {low:_}"
    if high is not None:
        return f"<= {high:_}"
    if "minLength" in schema or "maxLength" in schema:
        return f"{schema.get('minLength', 0)} to {schema.get('maxLength', '∞')} characters"
    return ""


def paragraphs(text: str) -> list[str]:
    """A docstring rewrapped for a JSDoc block (pydantic strips the class docstring's indent)."""
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        if lines:
            lines.append("")
        lines += textwrap.wrap(" ".join(paragraph.split()), WIDTH - 3)
    return lines


def comment(lines: Iterable[str]) -> list[str]:
    """`lines` as one JSDoc block."""
    return ["/**", *(f" * {line}".rstrip() for line in lines), " */"]


def constants(name: str, doc: str, models: Mapping[str, type[BaseModel]]) -> list[str]:
    """A frozen object mapping UPPER_CASE names to the `type` strings of `models`."""
    entries = [f'  {kind.upper()}: "{kind}",' for kind in models]
    return [f"/** {doc} */", f"export const {name} = Object.freeze({{", *entries, "});", ""]


def frozen_names(head: str, names: Iterable[str], tail: str) -> list[str]:
    """The line `{head}Object.freeze([...]){tail}`, broken one name a line as Biome formats it
    when it is wider than the page (the head's indent is kept)."""
    quoted = [json.dumps(name) for name in names]
    line = f"{head}Object.freeze([{', '.join(quoted)}]){tail}"
    if len(line) <= JS_WIDTH:
        return [line]
    indent = head[: len(head) - len(head.lstrip())]
    return [f"{head}Object.freeze([", *(f"{indent}  {q}," for q in quoted), f"{indent}]){tail}"]


def field_names(name: str, doc: str, models: Mapping[str, type[BaseModel]]) -> list[str]:
    """A frozen object mapping each message's `type` string to the frozen array of its field
    names, in the order the model declares them (`type` first)."""
    entries = [
        line
        for kind, model in models.items()
        for line in frozen_names(f"  {kind}: ", model.model_fields, ",")
    ]
    return [f"/** {doc} */", f"export const {name} = Object.freeze({{", *entries, "});", ""]


def union(name: str, doc: str, members: Iterable[str]) -> list[str]:
    """A typedef that is the union of `members`, wrapped to the page width."""
    wrapped = textwrap.wrap(" | ".join(members), WIDTH - 14, break_on_hyphens=False)
    body = [f"@typedef {{{wrapped[0]}", *(f"  {line}" for line in wrapped[1:])]
    body[-1] += f"}} {name}"
    return [*comment([doc, *body]), ""]


def socket_protocol_js() -> str:
    """The text of web/socket/protocol.js."""
    docs = JSDoc()
    client = [docs.add(model.model_json_schema(), "client") for model in CLIENT_MESSAGES.values()]
    server = [
        docs.add(model.model_json_schema(mode="serialization"), "server")
        for model in SERVER_MESSAGES.values()
    ]
    docs.add_nested()
    reliable = [
        name
        for name, model in zip(client, CLIENT_MESSAGES.values(), strict=True)
        if "id" in model.model_json_schema().get("required", ())
    ]
    lines = [
        *generated_header(
            "server/protocol.py",
            "The page <-> server socket protocol: the `type` of every message both ways, and the "
            "shape of each message, for the page's modules to import instead of spelling a "
            "message literal. docs/socket-protocol.md explains the exchange.",
        ),
        "",
        "/** The protocol version the server announces in `hello`. */",
        f"export const PROTOCOL_VERSION = {PROTOCOL_VERSION};",
        "",
        "/** The most job slots one connection may volunteer (`jobs_join`'s `slots`). */",
        f"export const MAX_JOB_SLOTS = {MAX_JOB_SLOTS};",
        "",
        *constants("ClientType", "The `type` of every message a page sends.", CLIENT_MESSAGES),
        *constants("ServerType", "The `type` of every message the server sends.", SERVER_MESSAGES),
        *field_names(
            "FIELDS",
            "The field names of every message both ways, by `type` (`type` itself first).",
            {**CLIENT_MESSAGES, **SERVER_MESSAGES},
        ),
        "/** The field names of the stored result a `peer_result` carries (`StoredResult`). */",
        *frozen_names("export const STORED_RESULT_FIELDS = ", StoredResult.model_fields, ";"),
        "",
        *docs.render(),
        *union("ClientMessage", "Any message a page sends.", client),
        *union("ServerMessage", "Any message the server sends.", server),
        *union(
            "ReliableMessage",
            "A page's message that carries its own `id` and is answered with `ack` (or `error`).",
            reliable,
        ),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def task_schema_js() -> str:
    """The text of worker/task-schema.js."""
    docs = JSDoc()
    docs.add(TypeAdapter(TaskSchema).json_schema(mode="serialization"), "server")
    docs.add_nested()
    lines = [
        *generated_header(
            "py/offload/schema.py",
            "How the worker describes a task and its parameters to the page (the `tasks` of its "
            "`ready` reply), which the page builds its form from.",
        ),
        "",
        *docs.render(),
        "export {};",
    ]
    return "\n".join(lines) + "\n"


GENERATED: dict[Path, Callable[[], str]] = {
    SOCKET_PROTOCOL_JS: socket_protocol_js,
    TASK_SCHEMA_JS: task_schema_js,
    json_schema.SCHEMA_PATH: json_schema.render,
}


def stale() -> list[Path]:
    """The generated files whose checked-in text differs from what the definitions produce."""
    return [
        path for path, make in GENERATED.items() if not path.exists() or path.read_text() != make()
    ]


def main(argv: list[str]) -> int:
    """Write the stale files (or with `--check`, only list them); returns the exit code."""
    outdated = stale()
    for path in outdated:
        where = path.relative_to(ROOT)
        if "--check" in argv:
            print(f"stale: {where} (run: python -m support.codegen)", file=sys.stderr)
        else:
            path.write_text(GENERATED[path]())
            print(f"wrote {where}")
    return 1 if outdated and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
