// The page <-> worker protocol: every message either side posts is one of the types below.
// This module is the single definition; dispatcher.js and python-worker.js import its names,
// nothing else spells a message literal. Requests carry the page's `id`; replies to a request echo it.
// docs/worker-protocol.md describes each message with an example exchange.

/** Request kinds the page sends to the worker. */
export const Request = Object.freeze({
  INIT: "init",
  RUN: "run",
  CALL: "call",
});

/** Reply kinds the worker sends to the page. */
export const Reply = Object.freeze({
  READY: "ready",
  PROGRESS: "progress",
  STDOUT: "stdout",
  RESULT: "result",
  ERROR: "error",
  CANCELLED: "cancelled",
  CRASHED: "crashed",
  BOOT_FAILED: "boot_failed",
  INPUT: "input",
  WARMED: "warmed",
});

/** The value the page stores in the interrupt buffer to cancel: SIGINT, i.e. KeyboardInterrupt. */
export const SIGINT = 2;

/**
 * The input buffer: an Int32Array over a SharedArrayBuffer through which the page answers
 * `input()` while the worker waits in Atomics.wait. Int32 slot STATE is WAITING while the worker
 * waits, then ANSWERED (LENGTH bytes of UTF-8 follow, from byte ANSWER_OFFSET) or NO_ANSWER (end of
 * input); the page stores STATE last and notifies it.
 */
export const InputSlot = Object.freeze({ STATE: 0, LENGTH: 1 });
export const InputState = Object.freeze({ WAITING: 0, ANSWERED: 1, NO_ANSWER: 2 });
export const ANSWER_OFFSET = 8;
/** Bytes of an answer the buffer holds (a longer one is cut at a character boundary). */
export const INPUT_BUFFER_BYTES = ANSWER_OFFSET + 64 * 1024;

/**
 * Sent once, first (the worker waits for it before `ready`): the shared interrupt buffer, an
 * Int32Array over a SharedArrayBuffer of 4 bytes, the input buffer (INPUT_BUFFER_BYTES), and the
 * started buffer (4 bytes: the worker stores there the id of each run as it begins it, so a page
 * whose cancel went unanswered can tell a job that never began, its worker still busy or starved of
 * CPU, from one that runs on), when the page is cross-origin isolated; all null when it is not
 * (then input() says why it cannot ask, and cancel restarts the worker). Then the developer's own
 * code, as absolute URLs: `modules`, plain `.py` files the worker fetches and writes where `import`
 * finds them, and `packages`, wheels it installs; all before `ready` (a module or wheel that does
 * not load is a `boot_failed` of name "UserCodeError" naming its URL). Both may be left out.
 * @typedef {{type: "init", interruptBuffer: Int32Array | null, inputBuffer: Int32Array | null,
 *            startedBuffer: Int32Array | null, modules?: string[], packages?: string[]}} InitRequest
 */

/**
 * Run the Python task `task` with `params` (plain JSON values, and ArrayBuffers for "bytes"
 * params: transferred with the message, not copied). The page sends one run at a time and the
 * next only after this one's final reply (result, error, cancelled or crashed).
 * @typedef {{type: "run", id: number, task: string, params: Record<string, unknown>}} RunRequest
 */

/**
 * Call the developer's own function `function` ("mymod.fn": a module from InitRequest `modules`
 * or `packages`) with `args` and `kwargs`: plain JSON values, ArrayBuffers (transferred) for bytes.
 * Replies as a run does: progress (`offload.progress`), stdout, input, then result / error /
 * cancelled / crashed. Its own errors are `error` replies named MissingModuleError,
 * MissingFunctionError, ArgumentError and ResultError (py/offload/functions.py).
 * @typedef {{type: "call", id: number, function: string, args: unknown[],
 *            kwargs: Record<string, unknown>}} CallRequest
 */

/** @typedef {InitRequest | RunRequest | CallRequest} WorkerRequest */

/**
 * How long each boot phase took, in milliseconds.
 * @typedef {object} BootTimings
 * @property {number} importRuntime  fetching and evaluating pyodide.mjs
 * @property {number} loadRuntime    loadPyodide: wasm download + compile + interpreter start
 * @property {number} loadWheel      loading the offload wheel by name from the lockfile (after a
 *                                   restore: its files back into site-packages, random reseeded)
 * @property {number} [makeSnapshot] taking the memory snapshot later workers restore
 * @property {number} [loadUserCode] fetching and installing InitRequest's modules and packages
 * @property {number} total          from the worker script's first line to `ready`
 */

/**
 * How a worker booted (docs/startup.md).
 * @typedef {object} BootInfo
 * @property {"snapshot" | "scratch"} source  restored from a memory snapshot, or booted normally
 * @property {boolean} madeSnapshot  this boot made the snapshot later workers restore
 * @property {string | null} note  why a snapshot was not used or not kept (null when all went well)
 */

/**
 * What the browser offers this worker.
 * @typedef {object} Capabilities
 * @property {boolean} crossOriginIsolated
 * @property {boolean} sharedArrayBuffer
 * @property {number} hardwareConcurrency
 * @property {boolean} interrupts  true when cancel goes through the interrupt buffer (else the
 *                                 worker is terminated and restarted)
 */

/**
 * One declared parameter of a task (offload.params.Param.schema()). A "range" param is a
 * half-open [start, stop) of integers within [0, value of the param named `bound`): the task's
 * splittable dimension, which WorkerPool.runSplit divides into parts. The shape is defined in
 * py/offload/schema.py and generated into task-schema.js.
 * @typedef {import("./task-schema.js").ParamSchema} ParamInfo
 */

/**
 * A task the worker can run (offload.tasks.Task.schema()). "bytes" results arrive as an
 * ArrayBuffer (and the parts of a split run concatenate, in order, to the bytes of the whole).
 * A task with `awaits` runs through bridge.run_async: it may `await` (run_code, whose code also
 * gets the wheelhouse packages it imports installed first).
 * @typedef {import("./task-schema.js").TaskSchema} TaskInfo
 */

/**
 * The worker booted: Pyodide, the offload wheel and the developer's modules and packages are loaded.
 * @typedef {{type: "ready", python: string, pyodide: string, timings: BootTimings,
 *            boot: BootInfo, capabilities: Capabilities, tasks: TaskInfo[]}} ReadyReply
 */

/**
 * A task reported that `done` of `total` units are finished (at most ~30 a second).
 * @typedef {{type: "progress", id: number, done: number, total: number}} ProgressReply
 */

/**
 * A batch of text the task wrote to sys.stdout or sys.stderr.
 * @typedef {{type: "stdout", id: number, stream: "stdout" | "stderr", text: string}} StdoutReply
 */

/**
 * A task finished. `value` is its JSON-like result, or an ArrayBuffer (transferred, not copied)
 * when the task returned bytes.
 * @typedef {{type: "result", id: number, value: unknown}} ResultReply
 */

/**
 * Request `id` failed. For Python exceptions `name` is the exception's type (e.g. "ValueError")
 * and `traceback` the formatted traceback. `id` is null only for a request the worker could not
 * read at all (name "ProtocolError": no `type` it knows, and no `id` to answer to).
 * @typedef {{type: "error", id: number | null, name: string, message: string,
 *            traceback?: string}} ErrorReply
 */

/**
 * The worker could not boot (Pyodide or the wheel failed to load). Sent instead of `ready`; the
 * worker answers nothing after it, and starting another would fail the same way.
 * @typedef {{type: "boot_failed", name: string, message: string}} BootFailedReply
 */

/**
 * The running code called input(): the worker now waits, in Atomics.wait, for the page to answer
 * through the input buffer (see InputState). Only sent when the page is cross-origin isolated.
 * @typedef {{type: "input", id: number, prompt: string}} InputReply
 */

/**
 * The run stopped with KeyboardInterrupt: the page's cancel (or timeout) reached Python.
 * @typedef {{type: "cancelled", id: number}} CancelledReply
 */

/**
 * The Python runtime failed beyond repair during run `id` (a wasm trap, out of memory, a fatal
 * Pyodide error). The page terminates this worker and starts a new one.
 * @typedef {{type: "crashed", id: number | null, message: string}} CrashedReply
 */

/**
 * The worker that made the memory snapshot ran small runs of the tasks after `ready` (py/offload/
 * warmup.py: so that V8 optimises their code while it can still be cached for later visits) and
 * stopped: `steps` of `of` done in `ms` milliseconds, `stoppedBy` "done" or "request" (a run came,
 * which goes first). Sent once, only by that worker; nothing waits for it.
 * @typedef {{type: "warmed", steps: number, of: number, ms: number,
 *            stoppedBy: "done" | "request"}} WarmedReply
 */

/**
 * @typedef {ReadyReply | ProgressReply | StdoutReply | ResultReply | ErrorReply | CancelledReply
 *           | CrashedReply | BootFailedReply | InputReply | WarmedReply} WorkerReply
 */
