// The page <-> worker protocol: every message either side posts is one of the types below.
// This module is the single definition; worker.js and client.js import its names, nothing else
// spells a message literal. Requests carry the page's `id`; replies to a request echo it.

/** Request kinds the page sends to the worker. */
export const Request = Object.freeze({
  RUN: "run",
});

/** Reply kinds the worker sends to the page. */
export const Reply = Object.freeze({
  READY: "ready",
  PROGRESS: "progress",
  RESULT: "result",
  ERROR: "error",
});

/**
 * Run the Python task `task` with `params` (plain JSON values).
 * @typedef {{type: "run", id: number, task: string, params: Record<string, unknown>}} RunRequest
 */

/** @typedef {RunRequest} WorkerRequest */

/**
 * How long each boot phase took, in milliseconds.
 * @typedef {object} BootTimings
 * @property {number} importRuntime  fetching and evaluating pyodide.mjs
 * @property {number} loadRuntime    loadPyodide: wasm download + compile + interpreter start
 * @property {number} loadWheel      loading the offload wheel by name from the lockfile
 * @property {number} total          from the worker script's first line to `ready`
 */

/**
 * What the browser offers this worker.
 * @typedef {object} Capabilities
 * @property {boolean} crossOriginIsolated
 * @property {boolean} sharedArrayBuffer
 * @property {number} hardwareConcurrency
 */

/**
 * The worker booted: Pyodide and the offload wheel are loaded.
 * @typedef {{type: "ready", python: string, pyodide: string, timings: BootTimings,
 *            capabilities: Capabilities}} ReadyReply
 */

/**
 * A task reported that `done` of `total` units are finished.
 * @typedef {{type: "progress", id: number, done: number, total: number}} ProgressReply
 */

/**
 * A task finished. `value` is its JSON-like result, or an ArrayBuffer (transferred, not copied)
 * when the task returned bytes.
 * @typedef {{type: "result", id: number, value: unknown}} ResultReply
 */

/**
 * A request failed, or (id null) the worker could not boot. For Python exceptions `name` is the
 * exception's type (e.g. "ValueError") and `traceback` the formatted traceback.
 * @typedef {{type: "error", id: number | null, name: string, message: string,
 *            traceback?: string}} ErrorReply
 */

/** @typedef {ReadyReply | ProgressReply | ResultReply | ErrorReply} WorkerReply */
