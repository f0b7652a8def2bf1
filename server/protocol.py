"""The page <-> server socket protocol: every message both ways, and the parser. No I/O here.

Each message is one JSON text frame holding an object with a string `type`. Messages a client
needs to know arrived (`result`, `job_start`, `chunk_result`) carry a client-made `id` and are
answered with `ack {id}`. Everything the server sends is built from a model below, and every
frame a client sends is parsed by `parse_client_message`, so this file is the whole vocabulary;
`docs/socket-protocol.md` is checked against it by the tests.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
)

# The Monte Carlo task's own params and result (defined once, in its module) are part of this
# vocabulary: re-exported, so the server's modules find every message type here.
from offload.tasks.montecarlo import MonteCarloParams
from offload.tasks.montecarlo import MonteCarloResult as MonteCarloResult  # noqa: PLC0414

#: What `job_chunk` carries: the params of the task `montecarlo_pi`.
ChunkParams = MonteCarloParams

PROTOCOL_VERSION = 1
#: Deepest nesting of arrays and objects a client frame may hold (the message itself is level 1).
#: Real results are a few levels deep; the bound keeps every stored value re-serialisable by
#: every reader (pydantic's serializer, the browser's JSON.parse) far below their own limits.
MAX_DEPTH = 32
#: The most job slots (chunks held at once) one connection may volunteer in `jobs_join`.
MAX_JOB_SLOTS = 16

MessageId = Annotated[str, Field(min_length=1, max_length=128)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class Message(BaseModel):
    """Base of every message: immutable, and unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def by_type(*models: type[Message]) -> dict[str, type[Message]]:
    """Index message classes by their `type` literal."""
    return {model.model_fields["type"].default: model for model in models}


# ---- client -> server ---------------------------------------------------------------------


class ResultMessage(Message):
    """A task result a page computed; stored once per `id`, acked, and shown to the other pages."""

    type: Literal["result"] = "result"
    id: MessageId
    task: Name
    params: dict[str, JsonValue]
    result: JsonValue
    duration_ms: Annotated[float, Field(ge=0)]


class PingMessage(Message):
    """Asks for a `pong` with the same `id`: a round trip the page can time."""

    type: Literal["ping"] = "ping"
    id: MessageId | None = None


class JobsJoinMessage(Message):
    """Opts this connection in to distributed work: it will be sent `job_chunk`s."""

    type: Literal["jobs_join"] = "jobs_join"
    slots: Annotated[int, Field(ge=1, le=MAX_JOB_SLOTS)] = 1


class JobsLeaveMessage(Message):
    """Opts out again; chunks this connection still holds go back in the queue."""

    type: Literal["jobs_leave"] = "jobs_leave"


class TabsMessage(Message):
    """How many browser tabs this connection carries: a shared worker speaking for several tabs
    sends it whenever its count changes (a connection that never sends it counts as one tab)."""

    type: Literal["tabs"] = "tabs"
    count: Annotated[int, Field(ge=1, le=1000)]


class JobStartMessage(Message):
    """Starts a distributed Monte Carlo pi job of `samples`, split into `chunk_samples` chunks."""

    type: Literal["job_start"] = "job_start"
    id: MessageId
    samples: Annotated[int, Field(ge=1, le=10**13)]
    chunk_samples: Annotated[int, Field(ge=1, le=2_000_000_000)] = 10**6
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0


_MONTE_CARLO_RESULT: TypeAdapter[MonteCarloResult] = TypeAdapter(MonteCarloResult)
_MONTE_CARLO_FIELDS = frozenset(field.name for field in dataclasses.fields(MonteCarloResult))


def _monte_carlo_result(value: object) -> object:
    # Messages are validated strictly from Python objects (after json.loads and the door checks),
    # and strict mode takes a stdlib dataclass only as an instance. So a dict is validated here
    # as the JSON it came from: still strict ("5" and true are not numbers), no unknown fields.
    if not isinstance(value, dict):
        return value
    unknown = sorted(set(value) - _MONTE_CARLO_FIELDS)
    if unknown:
        raise ValueError(f"unexpected field(s): {', '.join(map(str, unknown))}")
    return _MONTE_CARLO_RESULT.validate_json(json.dumps(value), strict=True)


def _counts_are_natural(result: MonteCarloResult) -> MonteCarloResult:
    # Whether the counts fit the chunk is the job board's call (an `invalid_chunk` error).
    if result.inside < 0 or result.samples < 1:
        raise ValueError("inside must be at least 0 and samples at least 1")
    return result


class ChunkResultMessage(Message):
    """A page's answer to one `job_chunk`."""

    type: Literal["chunk_result"] = "chunk_result"
    id: MessageId
    job_id: Name
    chunk: Annotated[int, Field(ge=0)]
    # The task's own result type (offload.tasks.montecarlo), so the interface is defined once.
    result: Annotated[
        MonteCarloResult,
        BeforeValidator(_monte_carlo_result),
        AfterValidator(_counts_are_natural),
    ]


ClientMessage = (
    ResultMessage
    | PingMessage
    | JobsJoinMessage
    | JobsLeaveMessage
    | TabsMessage
    | JobStartMessage
    | ChunkResultMessage
)
CLIENT_MESSAGES = by_type(
    ResultMessage,
    PingMessage,
    JobsJoinMessage,
    JobsLeaveMessage,
    TabsMessage,
    JobStartMessage,
    ChunkResultMessage,
)


# ---- server -> client ---------------------------------------------------------------------


class Handshake(Message):
    """The HTTP upgrade exactly as the server saw and answered it (for the page to show)."""

    request_line: str
    upgrade: str
    connection: str
    sec_websocket_key: str
    sec_websocket_version: str
    sec_websocket_accept: str
    status: int = 101


class Limits(Message):
    """Per-connection limits, so a client can stay inside them."""

    max_frame_bytes: int
    rate_per_second: float
    rate_burst: int
    heartbeat_seconds: float
    #: Result bytes one client address may store per hour (beyond: `over_budget` errors).
    address_bytes_per_hour: int
    #: All stored results together; beyond it the oldest results are deleted first.
    storage_budget_bytes: int
    #: Open connections from one client address at most.
    max_connections_per_address: int
    #: Seconds a volunteer may hold a chunk before it goes back to the queue.
    lease_seconds: float
    #: Unfinished jobs one client address may have started.
    jobs_per_address: int
    #: True when an acked result survives a crash of the store's machine (SQLite: always;
    #: Redis: only with appendfsync always, read from Redis at start).
    durable_acks: bool | None = None


class HelloMessage(Message):
    """Always the first message on a connection."""

    type: Literal["hello"] = "hello"
    protocol: int = PROTOCOL_VERSION
    version: str
    client_id: str
    peers: int
    handshake: Handshake
    limits: Limits


class AckMessage(Message):
    """Confirms a message with an `id`; `duplicate` is true when that id was already handled."""

    type: Literal["ack"] = "ack"
    id: str
    duplicate: bool = False


class ErrorMessage(Message):
    """A problem with one frame; the connection stays open unless the name says otherwise."""

    type: Literal["error"] = "error"
    id: str | None = None
    name: str
    message: str


class PongMessage(Message):
    """The answer to `ping`."""

    type: Literal["pong"] = "pong"
    id: str | None = None


class PeersMessage(Message):
    """How many pages are connected now (this one included); sent whenever it changes.

    `connections` are the open WebSockets; `tabs` the pages behind them (a browser whose tabs
    share one connection through a shared worker counts once and N times).
    """

    type: Literal["peers"] = "peers"
    connections: int
    tabs: int


class ServerStatusMessage(Message):
    """The server's own health, sent when it changes (and after `hello` while it is not ok).

    With `--redis`, `ok` is false while Redis is unreachable or refuses writes (full, a
    replica): the connection stays open, but results are refused with a retryable `error`
    (`storage_unavailable`, or `storage_full` while it refuses writes) until it is back. Each
    change is sent once: a refused write does not flip the status back and forth.
    """

    type: Literal["server"] = "server"
    ok: bool
    message: str
    #: While not ok: seconds to wait before sending results again (the server also says when
    #: it is ok again); None when ok.
    retry_after: float | None = None


class StoredResult(Message):
    """A result as stored, returned by `GET /api/results` and carried by `peer_result`."""

    id: str
    client_id: str
    task: str
    params: dict[str, JsonValue]
    result: JsonValue
    duration_ms: float
    received_at: float


class PeerResultMessage(Message):
    """Another page's result, broadcast to everyone but its sender."""

    type: Literal["peer_result"] = "peer_result"
    result: StoredResult


class JobChunkMessage(Message):
    """One piece of a distributed job for this page to compute and answer with `chunk_result`."""

    type: Literal["job_chunk"] = "job_chunk"
    job_id: str
    chunk: int
    task: Literal["montecarlo_pi"] = "montecarlo_pi"
    params: ChunkParams


class JobProgressMessage(Message):
    """A job's running total, broadcast to every page after each chunk (and at start)."""

    type: Literal["job_progress"] = "job_progress"
    job_id: str
    samples: int
    samples_done: int
    inside: int
    estimate: float | None
    chunks: int
    chunks_done: int
    workers: int
    done: bool
    #: True when the job ended unfinished: no chunk was answered for the server's idle time.
    expired: bool = False


ServerMessage = (
    HelloMessage
    | AckMessage
    | ErrorMessage
    | PongMessage
    | PeersMessage
    | ServerStatusMessage
    | PeerResultMessage
    | JobChunkMessage
    | JobProgressMessage
)
SERVER_MESSAGES = by_type(
    HelloMessage,
    AckMessage,
    ErrorMessage,
    PongMessage,
    PeersMessage,
    ServerStatusMessage,
    PeerResultMessage,
    JobChunkMessage,
    JobProgressMessage,
)
RESULTS_ADAPTER: TypeAdapter[list[StoredResult]] = TypeAdapter(list[StoredResult])


# ---- parsing ------------------------------------------------------------------------------


class ProtocolError(ValueError):
    """A frame that is not a valid client message; `name` is the error's machine-readable kind."""

    def __init__(self, name: str, message: str, message_id: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.message_id = message_id

    def to_message(self) -> ErrorMessage:
        """The `error` reply for this problem."""
        return ErrorMessage(id=self.message_id, name=self.name, message=self.message)


def parse_client_message(frame: str | bytes) -> ClientMessage:
    """Parse and validate one frame from a client.

    Args:
        frame: the frame's payload (text, or binary holding UTF-8 JSON).

    Returns:
        The validated message.

    Raises:
        ProtocolError: naming what is wrong: `invalid_json`, `not_an_object`, `missing_type`,
            `unknown_type` or `invalid_message` (a schema violation, with the fields at fault).
    """
    try:
        data: Any = json.loads(frame, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as exc:
        # RecursionError: `[[[[...]]]]` nested deeper than the interpreter's stack.
        raise ProtocolError("invalid_json", f"The frame is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        raise ProtocolError("not_an_object", f"A message must be a JSON object, not {kind}.")
    raw_id = data.get("id")
    message_id = (
        raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= 128 and is_text(raw_id) else None
    )
    check_servable(data, message_id)
    if "type" not in data:
        raise ProtocolError("missing_type", "The message has no 'type' field.", message_id)
    kind = data["type"]
    model = CLIENT_MESSAGES.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(sorted(CLIENT_MESSAGES))
        raise ProtocolError(
            "unknown_type",
            f"Unknown message type {kind!r}; expected one of: {known}.",
            message_id,
        )
    try:
        # Strict: "5" and true are not numbers, 1.5 is not an integer (no silent coercion).
        return model.model_validate(data, strict=True)  # type: ignore[return-value]
    except ValidationError as exc:
        raise ProtocolError(
            "invalid_message", f"Invalid {kind!r} message: {describe(exc)}.", message_id
        ) from None


def refuse_constant(name: str) -> Any:
    """`json.loads` hook: NaN and Infinity are not JSON, and could not be sent back as JSON."""
    raise ValueError(f"{name} is not a JSON number")


def is_text(value: str) -> bool:
    """Whether a string is valid Unicode text, i.e. holds no lone surrogate.

    `JSON.stringify("\\ud800")` in a browser and `json.loads` here both accept a lone surrogate
    escape, but such a string has no UTF-8 form: storing it would make every later read fail.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_servable(data: dict[str, Any], message_id: str | None) -> None:
    """Refuse what could be stored and acked but not served again.

    Walks the decoded frame without recursion, so the check's own depth is bounded too.

    Raises:
        ProtocolError: `too_deep` (nested deeper than MAX_DEPTH), `invalid_text` (a lone
            surrogate in any key or string) or `invalid_json` (a number too big for a double,
            e.g. 1e400, which Python would read as infinity).
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ProtocolError(
                    "too_deep",
                    f"The message nests arrays and objects more than {MAX_DEPTH} levels deep.",
                    message_id,
                )
            if isinstance(value, dict):
                for key in value:
                    if not is_text(key):
                        raise ProtocolError("invalid_text", LONE_SURROGATE, message_id)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if not is_text(value):
                raise ProtocolError("invalid_text", LONE_SURROGATE, message_id)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ProtocolError(
                "invalid_json", "A number is too big to be a finite double.", message_id
            )


LONE_SURROGATE = "A string holds a lone UTF-16 surrogate such as \\ud800, which is not valid text."


def describe(exc: ValidationError) -> str:
    """A one-line summary of a validation error, naming each field at fault."""
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "message"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def encode(message: Message) -> str:
    """Serialize a server message to the JSON text of one frame."""
    return message.model_dump_json()
