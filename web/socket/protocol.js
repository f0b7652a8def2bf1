// Generated from server/protocol.py by `python -m support.codegen` — do not edit.
// The page <-> server socket protocol: the `type` of every message both ways, and the shape of each
// message, for the page's modules to import instead of spelling a message literal.
// docs/socket-protocol.md explains the exchange.
// `python3 build.py build` regenerates it; tests/server/test_codegen.py checks it.

/** The protocol version the server announces in `hello`. */
export const PROTOCOL_VERSION = 1;

/** The most job slots one connection may volunteer (`jobs_join`'s `slots`). */
export const MAX_JOB_SLOTS = 16;

/** The `type` of every message a page sends. */
export const ClientType = Object.freeze({
  RESULT: "result",
  PING: "ping",
  JOBS_JOIN: "jobs_join",
  JOBS_LEAVE: "jobs_leave",
  TABS: "tabs",
  JOB_START: "job_start",
  CHUNK_RESULT: "chunk_result",
});

/** The `type` of every message the server sends. */
export const ServerType = Object.freeze({
  HELLO: "hello",
  ACK: "ack",
  ERROR: "error",
  PONG: "pong",
  PEERS: "peers",
  SERVER: "server",
  PEER_RESULT: "peer_result",
  JOB_CHUNK: "job_chunk",
  JOB_PROGRESS: "job_progress",
});

/** The field names of every message both ways, by `type` (`type` itself first). */
export const FIELDS = Object.freeze({
  result: Object.freeze(["type", "id", "task", "params", "result", "duration_ms"]),
  ping: Object.freeze(["type", "id"]),
  jobs_join: Object.freeze(["type", "slots"]),
  jobs_leave: Object.freeze(["type"]),
  tabs: Object.freeze(["type", "count"]),
  job_start: Object.freeze(["type", "id", "samples", "chunk_samples", "seed"]),
  chunk_result: Object.freeze(["type", "id", "job_id", "chunk", "result"]),
  hello: Object.freeze(["type", "protocol", "version", "client_id", "peers", "handshake", "limits"]),
  ack: Object.freeze(["type", "id", "duplicate"]),
  error: Object.freeze(["type", "id", "name", "message"]),
  pong: Object.freeze(["type", "id"]),
  peers: Object.freeze(["type", "connections", "tabs"]),
  server: Object.freeze(["type", "ok", "message", "retry_after"]),
  peer_result: Object.freeze(["type", "result"]),
  job_chunk: Object.freeze(["type", "job_id", "chunk", "task", "params"]),
  job_progress: Object.freeze([
    "type",
    "job_id",
    "samples",
    "samples_done",
    "inside",
    "estimate",
    "chunks",
    "chunks_done",
    "workers",
    "done",
    "expired",
  ]),
});

/** The field names of the stored result a `peer_result` carries (`StoredResult`). */
export const STORED_RESULT_FIELDS = Object.freeze([
  "id",
  "client_id",
  "task",
  "params",
  "result",
  "duration_ms",
  "received_at",
]);

/**
 * A task result a page computed; stored once per `id`, acked, and shown to the other pages.
 * @typedef {object} ResultMessage
 * @property {"result"} type
 * @property {string} id  1 to 128 characters
 * @property {string} task  1 to 100 characters
 * @property {Record<string, JsonValue>} params
 * @property {JsonValue} result
 * @property {number} duration_ms  >= 0
 */

/**
 * Asks for a `pong` with the same `id`: a round trip the page can time.
 * @typedef {object} PingMessage
 * @property {"ping"} type
 * @property {string | null} [id]
 */

/**
 * Opts this connection in to distributed work: it will be sent `job_chunk`s.
 * @typedef {object} JobsJoinMessage
 * @property {"jobs_join"} type
 * @property {number} [slots]  1 to 16
 */

/**
 * Opts out again; chunks this connection still holds go back in the queue.
 * @typedef {object} JobsLeaveMessage
 * @property {"jobs_leave"} type
 */

/**
 * How many browser tabs this connection carries: a shared worker speaking for several tabs sends it
 * whenever its count changes (a connection that never sends it counts as one tab).
 * @typedef {object} TabsMessage
 * @property {"tabs"} type
 * @property {number} count  1 to 1_000
 */

/**
 * Starts a distributed Monte Carlo pi job of `samples`, split into `chunk_samples` chunks.
 * @typedef {object} JobStartMessage
 * @property {"job_start"} type
 * @property {string} id  1 to 128 characters
 * @property {number} samples  1 to 10_000_000_000_000
 * @property {number} [chunk_samples]  1 to 2_000_000_000
 * @property {number} [seed]  0 to 9_223_372_036_854_775_807
 */

/**
 * A page's answer to one `job_chunk`.
 * @typedef {object} ChunkResultMessage
 * @property {"chunk_result"} type
 * @property {string} id  1 to 128 characters
 * @property {string} job_id  1 to 100 characters
 * @property {number} chunk  >= 0
 * @property {MonteCarloResult} result
 */

/**
 * Always the first message on a connection.
 * @typedef {object} HelloMessage
 * @property {"hello"} type
 * @property {number} protocol
 * @property {string} version
 * @property {string} client_id
 * @property {number} peers
 * @property {Handshake} handshake
 * @property {Limits} limits
 */

/**
 * Confirms a message with an `id`; `duplicate` is true when that id was already handled.
 * @typedef {object} AckMessage
 * @property {"ack"} type
 * @property {string} id
 * @property {boolean} duplicate
 */

/**
 * A problem with one frame; the connection stays open unless the name says otherwise.
 * @typedef {object} ErrorMessage
 * @property {"error"} type
 * @property {string | null} id
 * @property {string} name
 * @property {string} message
 */

/**
 * The answer to `ping`.
 * @typedef {object} PongMessage
 * @property {"pong"} type
 * @property {string | null} id
 */

/**
 * How many pages are connected now (this one included); sent whenever it changes.
 *
 * `connections` are the open WebSockets; `tabs` the pages behind them (a browser whose tabs share
 * one connection through a shared worker counts once and N times).
 * @typedef {object} PeersMessage
 * @property {"peers"} type
 * @property {number} connections
 * @property {number} tabs
 */

/**
 * The server's own health, sent when it changes (and after `hello` while it is not ok).
 *
 * With `--redis`, `ok` is false while Redis is unreachable or refuses writes (full, a replica): the
 * connection stays open, but results are refused with a retryable `error` (`storage_unavailable`,
 * or `storage_full` while it refuses writes) until it is back. Each change is sent once: a refused
 * write does not flip the status back and forth.
 * @typedef {object} ServerStatusMessage
 * @property {"server"} type
 * @property {boolean} ok
 * @property {string} message
 * @property {number | null} retry_after
 */

/**
 * Another page's result, broadcast to everyone but its sender.
 * @typedef {object} PeerResultMessage
 * @property {"peer_result"} type
 * @property {StoredResult} result
 */

/**
 * One piece of a distributed job for this page to compute and answer with `chunk_result`.
 * @typedef {object} JobChunkMessage
 * @property {"job_chunk"} type
 * @property {string} job_id
 * @property {number} chunk
 * @property {"montecarlo_pi"} task
 * @property {MonteCarloParams} params
 */

/**
 * A job's running total, broadcast to every page after each chunk (and at start).
 * @typedef {object} JobProgressMessage
 * @property {"job_progress"} type
 * @property {string} job_id
 * @property {number} samples
 * @property {number} samples_done
 * @property {number} inside
 * @property {number | null} estimate
 * @property {number} chunks
 * @property {number} chunks_done
 * @property {number} workers
 * @property {boolean} done
 * @property {boolean} expired
 */

/**
 * The HTTP upgrade exactly as the server saw and answered it (for the page to show).
 * @typedef {object} Handshake
 * @property {string} request_line
 * @property {string} upgrade
 * @property {string} connection
 * @property {string} sec_websocket_key
 * @property {string} sec_websocket_version
 * @property {string} sec_websocket_accept
 * @property {number} status
 */

/**
 * Any JSON value.
 * @typedef {unknown} JsonValue
 */

/**
 * Per-connection limits, so a client can stay inside them.
 * @typedef {object} Limits
 * @property {number} max_frame_bytes
 * @property {number} rate_per_second
 * @property {number} rate_burst
 * @property {number} heartbeat_seconds
 * @property {number} address_bytes_per_hour
 * @property {number} storage_budget_bytes
 * @property {number} max_connections_per_address
 * @property {number} lease_seconds
 * @property {number} jobs_per_address
 * @property {boolean | null} durable_acks
 */

/**
 * The params of the task `montecarlo_pi`: throw `samples` points from `random.Random(seed)`.
 * @typedef {object} MonteCarloParams
 * @property {number} samples
 * @property {number} seed
 */

/**
 * What `montecarlo_pi` returns: how many of `samples` points fell inside; 4*inside/samples.
 * @typedef {object} MonteCarloResult
 * @property {number} inside
 * @property {number} samples
 * @property {number} estimate
 */

/**
 * A result as stored, returned by `GET /api/results` and carried by `peer_result`.
 * @typedef {object} StoredResult
 * @property {string} id
 * @property {string} client_id
 * @property {string} task
 * @property {Record<string, JsonValue>} params
 * @property {JsonValue} result
 * @property {number} duration_ms
 * @property {number} received_at
 */

/**
 * Any message a page sends.
 * @typedef {ResultMessage | PingMessage | JobsJoinMessage | JobsLeaveMessage | TabsMessage |
 *   JobStartMessage | ChunkResultMessage} ClientMessage
 */

/**
 * Any message the server sends.
 * @typedef {HelloMessage | AckMessage | ErrorMessage | PongMessage | PeersMessage |
 *   ServerStatusMessage | PeerResultMessage | JobChunkMessage | JobProgressMessage} ServerMessage
 */

/**
 * A page's message that carries its own `id` and is answered with `ack` (or `error`).
 * @typedef {ResultMessage | JobStartMessage | ChunkResultMessage} ReliableMessage
 */
