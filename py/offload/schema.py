"""The task schema: how a task and its parameters are described to a page, as typed dicts.

`offload.params.Param.schema()` and `offload.tasks.Task.schema()` build these; the worker sends
them to the page in its `ready` reply, and the page builds its form from them. This module is the
one definition: `python -m support.codegen` turns it into worker/task-schema.js (JSDoc typedefs),
so the JavaScript never restates the shape. Plain `typing` only: the wheel has no dependencies.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

#: What a parameter holds; "range" is a `[start, stop)` pair the page does not set by hand;
#: "bytes" is a file's contents (an ArrayBuffer in the page, moved to the worker, not copied).
ParamKind = Literal["integer", "number", "string", "range", "bytes"]
#: "bytes" results arrive in the page as an ArrayBuffer; "object" ones as plain JSON values.
Returns = Literal["object", "bytes"]


class ParamSchema(TypedDict):
    """One declared parameter of a task."""

    name: str
    kind: ParamKind
    description: str
    #: The suggested value; null when there is none (an optional range).
    default: object
    required: bool
    minimum: NotRequired[float]
    maximum: NotRequired[float]
    max_length: NotRequired[int]
    #: For a "string" holding code: its language (the page gives it a code editor).
    language: NotRequired[str]
    #: For a "range": the integer parameter whose value is the range's end (what a pool splits).
    bound: NotRequired[str]
    #: For "bytes": the size cap.
    max_bytes: NotRequired[int]


class TaskSchema(TypedDict):
    """A task the worker can run, with its parameters and a complete, valid set of values."""

    name: str
    summary: str
    returns: Returns
    #: What a page shows for the task (its name in a menu).
    label: str
    #: A few sentences for a person choosing the task: what it does, what its size costs.
    help: str
    #: Parameters the work grows with (roughly in proportion to their product), so a page can
    #: estimate a run's time from a measured one; empty when nothing predicts it (your own code).
    work: list[str]
    #: The worker runs it through bridge.run_async: it may `await` (run_code's top-level await).
    awaits: NotRequired[bool]
    params: list[ParamSchema]
    defaults: dict[str, object]
