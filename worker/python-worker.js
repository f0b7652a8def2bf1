// PythonWorker: one Pyodide worker seen from the main thread. Start it, run named Python tasks
// with progress, output, cancel and deadlines, and get results or typed errors. Apps import it
// through client.js; docs/worker-protocol.md describes the API in full.
//
//   const worker = await PythonWorker.start();
//   const job = worker.run("primes", { n: 2_000_000 }, { onProgress: (done, total) => {} });
//   const { count } = await job.result;      // job.cancel() rejects it with CancelledError
//
//   const mine = await PythonWorker.start({ modules: ["./mymod.py"] });   // your own Python
//   const total = await mine.call("mymod.add", [2, 3], { onProgress }).result;
//
// Cancel: in a cross-origin isolated page the client writes SIGINT into a SharedArrayBuffer that
// Pyodide polls, Python raises KeyboardInterrupt and the same worker runs the next job. Python
// does not poll while blocked (time.sleep, a long C call): if the interrupt is not honoured within
// `graceMs`, and always when the page is not isolated, the worker is terminated and a fresh one
// started in its place. Either way the job rejects with CancelledError (TimeoutError for a
// deadline) and the PythonWorker object keeps working.
//
// The worker itself sits behind an Endpoint (endpoint.js): a real module Worker by default, a fake
// in the Node tests. This class is the only code that posts to it.

import { clearCancel, signalCancel, unaskedCancel } from "./cancel.js";
import { moduleWorker } from "./endpoint.js";
import { CancelledError, PythonError, RequestError, TimeoutError, WorkerCrashedError } from "./errors.js";
import { ANSWER_OFFSET, INPUT_BUFFER_BYTES, InputSlot, InputState, Reply, Request } from "./protocol.js";

/** @typedef {import("./endpoint.js").Endpoint} Endpoint */
/** @typedef {import("./endpoint.js").EndpointFactory} EndpointFactory */
/** @typedef {import("./protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("./protocol.js").RunRequest} RunRequest */
/** @typedef {import("./protocol.js").CallRequest} CallRequest */
/** @typedef {import("./protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("./protocol.js").ReadyReply} ReadyReply */

/** How long a running job may ignore an interrupt before its worker is replaced. */
export const DEFAULT_GRACE_MS = 500;
/** How many grace periods a cancelled job that its worker has not begun may wait (see graceOver). */
export const MAX_GRACE_PERIODS = 10;

/**
 * Callbacks and limits for one run.
 * @typedef {object} RunOptions
 * @property {(done: number, total: number) => void} [onProgress]
 * @property {(text: string, stream: "stdout" | "stderr") => void} [onStdout]  batches of printed
 *   text, as printed (several lines at a time when the task prints fast)
 * @property {number} [timeout]  milliseconds from `run()`; then the job rejects with TimeoutError
 * @property {AbortSignal} [signal]  aborting it is the same as `job.cancel()`
 * @property {(prompt: string) => string | null | Promise<string | null>} [onInput]  answers the
 *   code's input(prompt) (the worker waits meanwhile); null, a rejection or no onInput at all is
 *   end of input (EOFError). Needs a cross-origin isolated page.
 */

/**
 * Options for `call`: a run's, and the function's keyword arguments.
 * @typedef {RunOptions & {kwargs?: Record<string, unknown>}} CallOptions
 */

/**
 * Options for a worker.
 * @typedef {object} WorkerOptions
 * @property {number} [graceMs]  how long a cancelled job may run on before the worker is replaced
 * @property {boolean} [interrupts]  false forces the terminate-and-restart fallback even when
 *   the page is isolated (true, the default, uses the interrupt buffer where possible)
 * @property {EndpointFactory} [endpoint]  makes the worker (again after each replacement);
 *   default: Offload's module worker, worker.js
 * @property {string[]} [modules]  URLs (relative to the page) of your own `.py` modules: each
 *   worker fetches them and writes them where `import` finds them before it is ready, so `call`
 *   can name their functions
 * @property {string[]} [packages]  URLs of your own wheels (pure Python, or Pyodide's), installed
 *   before the modules, without dependency resolution
 */

/**
 * A running task: `result` settles exactly once, with the task's value or an Error.
 * @template T
 * @typedef {object} Job
 * @property {number} id
 * @property {Promise<T>} result
 * @property {() => void} cancel  stop the job; `result` rejects with CancelledError (a no-op
 *   once it has settled)
 */

/**
 * The client's record of one job.
 * @typedef {object} JobState
 * @property {number} id
 * @property {string} task
 * @property {Record<string, unknown>} params
 * @property {{args: unknown[], kwargs: Record<string, unknown>} | null} call  a `call`'s
 *   arguments (then `task` is the function's name); null for a `run`
 * @property {RunOptions} options
 * @property {(value: any) => void} resolve
 * @property {(error: Error) => void} reject
 * @property {Error | null} stopping  set when cancel or the deadline asked the job to stop: the
 *   error it will reject with, whatever the worker replies
 * @property {boolean} settled
 * @property {(() => void)[]} cleanup
 */

export class PythonWorker {
  /**
   * Start a worker and wait until Python is ready.
   * @param {WorkerOptions} [options]
   * @returns {Promise<PythonWorker>}
   */
  static async start(options) {
    const worker = new PythonWorker(options);
    await worker.ready;
    return worker;
  }

  /**
   * Start a worker; `run` may be called at once (jobs wait for the boot). Prefer `start()`.
   * @param {WorkerOptions} [options]
   */
  constructor({
    graceMs = DEFAULT_GRACE_MS,
    interrupts = true,
    endpoint = moduleWorker,
    modules = [],
    packages = [],
  } = {}) {
    this.graceMs = graceMs;
    /** The developer's own code, as absolute URLs: every (re)started worker loads it. */
    this.userCode = { modules: modules.map(absoluteUrl), packages: packages.map(absoluteUrl) };
    this.createEndpoint = endpoint;
    /** @type {ReadyReply | null} what the current worker reported when it booted */
    this.info = null;
    /**
     * The warm-up of the worker that made the memory snapshot, once it stopped (null: none, or
     * not yet); see WarmedReply in protocol.js.
     * @type {import("./protocol.js").WarmedReply | null}
     */
    this.warmup = null;
    /** How many times the worker was replaced (after a crash or an ignored cancel). */
    this.restarts = 0;
    /** Why the worker was last replaced (null: never), e.g. for a log after a surprise restart. */
    this.lastRestartReason = /** @type {string | null} */ (null);
    const shared = globalThis.crossOriginIsolated && typeof SharedArrayBuffer === "function";
    /** @type {Int32Array | null} shared with the worker; null when not cross-origin isolated */
    this.interruptBuffer = interrupts && shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
    /** @type {Int32Array | null} where input() answers go (protocol.js InputSlot); null likewise */
    this.inputBuffer = shared ? new Int32Array(new SharedArrayBuffer(INPUT_BUFFER_BYTES)) : null;
    /** @type {Int32Array | null} the id of the run the worker last began (InitRequest); null likewise */
    this.startedBuffer = shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
    /** @type {JobState[]} jobs waiting for the worker, in order */
    this.queue = [];
    /** @type {JobState | null} the job the worker is running */
    this.current = null;
    this.nextId = 1;
    this.booted = false;
    this.closed = false;
    /** @type {Error | null} why the worker is closed */
    this.closedBy = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.graceTimer = null;
    /** @type {{resolve: (reply: ReadyReply) => void, reject: (error: Error) => void}} */
    let callbacks = { resolve: () => {}, reject: () => {} };
    /** @type {Promise<ReadyReply>} settles with the first boot */
    this.ready = new Promise((resolve, reject) => {
      callbacks = { resolve, reject };
    });
    this.ready.catch(() => {}); // a boot failure also rejects every job; no unhandled rejection
    this.readyCallbacks = callbacks;
    /** @type {Endpoint} the worker now serving this client */
    this.endpoint = this.spawn();
  }

  /** How cancel works here: "interrupt" (shared memory) or "restart" (terminate + new worker). */
  get cancelMode() {
    return this.interruptBuffer ? "interrupt" : "restart";
  }

  /** Jobs not yet settled: the running one and the queued ones. */
  get pendingCount() {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /**
   * Run the Python task `task` with `params`. Jobs run one at a time, in the order of `run` calls.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {RunOptions} [options]
   * @returns {Job<any>}
   */
  run(task, params, options = {}) {
    return this.enqueue(task, params, null, options);
  }

  /**
   * Call your own function `name` ("mymod.fn", its module given in `modules` or `packages`) with
   * plain `args` (ArrayBuffers are transferred and arrive as bytes) and `options.kwargs`; the
   * result is its plain return value (bytes as an ArrayBuffer). Queued with the runs, in order;
   * progress (`from offload import progress`), output, input, cancel and timeout work as for a
   * run. A missing module, a missing function and arguments that do not fit reject with a
   * PythonError of type MissingModuleError, MissingFunctionError and ArgumentError.
   * @param {string} name
   * @param {unknown[]} [args]
   * @param {CallOptions} [options]
   * @returns {Job<any>}
   */
  call(name, args = [], options = {}) {
    const { kwargs = {}, ...runOptions } = options;
    return this.enqueue(name, {}, { args, kwargs }, runOptions);
  }

  /**
   * Queue a run (`call` null) or a call.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {JobState["call"]} call
   * @param {RunOptions} options
   * @returns {Job<any>}
   */
  enqueue(task, params, call, options) {
    const id = this.nextId++;
    /** @type {JobState} */
    let job = /** @type {any} */ (null);
    const result = new Promise((resolve, reject) => {
      job = { id, task, params, call, options, resolve, reject, stopping: null, settled: false, cleanup: [] };
    });
    if (this.closed) {
      this.settle(job, this.closedBy ?? new WorkerCrashedError("The worker was terminated."));
      return { id, result, cancel: () => {} };
    }
    const cancel = () => this.stop(job, new CancelledError());
    if (options.timeout !== undefined) {
      const timeout = options.timeout;
      const timer = setTimeout(() => this.stop(job, new TimeoutError(timeout)), timeout);
      job.cleanup.push(() => clearTimeout(timer));
    }
    if (options.signal) {
      const signal = options.signal;
      if (signal.aborted) {
        this.settle(job, new CancelledError());
        return { id, result, cancel };
      }
      signal.addEventListener("abort", cancel);
      job.cleanup.push(() => signal.removeEventListener("abort", cancel));
    }
    this.queue.push(job);
    this.pump();
    return { id, result, cancel };
  }

  /** Stop the worker at once; every unfinished job rejects with WorkerCrashedError. */
  terminate() {
    if (this.closed) return;
    this.close(new WorkerCrashedError("The worker was terminated."));
  }

  // --- internals -------------------------------------------------------------------------------

  /**
   * Create a worker, wire its events and hand it the interrupt buffer.
   * @returns {Endpoint}
   */
  spawn() {
    const endpoint = this.createEndpoint();
    this.booted = false;
    endpoint.addEventListener("message", (event) => {
      // A replaced worker's last messages may still be queued; only the current one counts.
      if (endpoint === this.endpoint) this.handle(event.data);
    });
    endpoint.addEventListener("error", (event) => {
      event.preventDefault();
      const message = `The worker failed: ${event.message || "script error"}`;
      if (endpoint === this.endpoint) this.crashed(message);
    });
    // Posted before the worker listens: the dispatcher queues messages until Pyodide is ready.
    /** @type {import("./protocol.js").InitRequest} */
    const init = {
      type: Request.INIT,
      interruptBuffer: this.interruptBuffer,
      inputBuffer: this.inputBuffer,
      startedBuffer: this.startedBuffer,
      ...this.userCode,
    };
    endpoint.postMessage(init, []);
    return endpoint;
  }

  /**
   * Terminate the worker and start another; queued jobs wait for it.
   * @param {string} reason  why, for lastRestartReason
   */
  replace(reason) {
    this.lastRestartReason = reason;
    this.clearGrace();
    this.endpoint.terminate();
    this.current = null;
    this.restarts += 1;
    this.endpoint = this.spawn();
  }

  /** Send the next queued job if the worker is idle. */
  pump() {
    if (!this.booted || this.current || this.closed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.current = job;
    clearCancel(this.interruptBuffer); // the worker is idle: safe (cancel.js)
    /** @type {RunRequest | CallRequest} */
    const request = job.call
      ? { type: Request.CALL, id: job.id, function: job.task, ...job.call }
      : { type: Request.RUN, id: job.id, task: job.task, params: job.params };
    const transfer = job.call
      ? [...new Set([...transferables({ ...job.call.args }), ...transferables(job.call.kwargs)])]
      : transferables(job.params);
    try {
      this.endpoint.postMessage(request, transfer);
    } catch (error) {
      // The request never left this thread (issue #11): the worker is idle and knows nothing of
      // the job, so only this job fails and the next one goes to the same worker.
      this.current = null;
      this.settle(job, new RequestError(unsendable(job, error), error));
      this.pump();
    }
  }

  /**
   * Ask `job` to stop; it rejects with `error` once the worker confirms or is replaced.
   * @param {JobState} job
   * @param {Error} error
   */
  stop(job, error) {
    if (job.settled || job.stopping) return;
    job.stopping = error;
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(job, error);
    } else if (job === this.current) {
      if (this.interruptBuffer) {
        signalCancel(this.interruptBuffer, this.inputBuffer);
        // Python polls the buffer every few bytecodes, but not inside a blocking C call.
        this.graceTimer = setTimeout(() => this.graceOver(job, 1), this.graceMs);
      } else {
        this.escalate(
          job,
          "a job was cancelled without an interrupt buffer (the page is not isolated, or interrupts are off)",
        );
      }
    }
  }

  /**
   * The grace period after a cancel ran out with `job` still running. If the worker has not even
   * begun it (its thread still busy, e.g. storing the memory snapshot, or starved of CPU on a
   * loaded machine), it will find the interrupt before it runs any of the job: wait another period,
   * up to MAX_GRACE_PERIODS in all, rather than throw away a healthy interpreter. A job that began
   * and runs on past the interrupt (a C call that never checks it, code that swallows it) has its
   * worker replaced.
   * @param {JobState} job
   * @param {number} periods  grace periods waited so far
   */
  graceOver(job, periods) {
    if (job !== this.current) return;
    const began = this.startedBuffer === null || Atomics.load(this.startedBuffer, 0) === job.id;
    if (!began && periods < MAX_GRACE_PERIODS) {
      this.graceTimer = setTimeout(() => this.graceOver(job, periods + 1), this.graceMs);
      return;
    }
    this.escalate(
      job,
      began
        ? `a cancelled job ran on for ${this.graceMs} ms after the interrupt`
        : `the worker did not begin a cancelled job within ${periods * this.graceMs} ms`,
    );
  }

  /**
   * The running job did not stop in time (or cannot be interrupted): replace the worker.
   * @param {JobState} job
   * @param {string} reason  for lastRestartReason
   */
  escalate(job, reason) {
    if (job !== this.current) return;
    this.replace(reason);
    this.settle(job, /** @type {Error} */ (job.stopping));
    this.pump();
  }

  /** @param {string} message */
  crashed(message) {
    if (!this.booted) {
      // A boot failed (files missing, wasm refused): starting again would fail the same way.
      this.close(new WorkerCrashedError(message));
      return;
    }
    const job = this.current;
    this.replace(job ? message : `${message} (while idle)`);
    if (job) this.settle(job, new WorkerCrashedError(message));
    this.pump();
  }

  /** @param {Error} error */
  close(error) {
    this.closed = true;
    this.closedBy = error;
    this.clearGrace();
    this.endpoint.terminate();
    this.readyCallbacks.reject(error);
    const jobs = [...(this.current ? [this.current] : []), ...this.queue];
    this.current = null;
    this.queue = [];
    for (const job of jobs) this.settle(job, error);
  }

  clearGrace() {
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  /**
   * Settle a job once: with an Error it rejects, otherwise it resolves with `outcome`.
   * @param {JobState} job
   * @param {unknown} outcome
   */
  settle(job, outcome) {
    if (job.settled) return;
    job.settled = true;
    for (const cleanup of job.cleanup) cleanup();
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }

  /**
   * The running job's final reply: settle it (a stopped job always rejects with its stop error)
   * and send the next.
   * @param {number} id
   * @param {unknown} outcome
   */
  finish(id, outcome) {
    const job = this.current;
    if (!job || job.id !== id) return;
    this.clearGrace();
    this.current = null;
    this.settle(job, job.stopping ?? outcome);
    this.pump();
  }

  /**
   * Ask the job's onInput for the answer to `prompt` and hand it to the waiting worker.
   * @param {JobState} job
   * @param {string} prompt
   */
  answer(job, prompt) {
    const onInput = job.options.onInput;
    const asked = (async () => (onInput ? onInput(prompt) : null))();
    /** @param {string | null | undefined} answer */
    const reply = (answer) => {
      const buffer = this.inputBuffer;
      // A cancelled or replaced job's worker no longer waits for this answer.
      if (!buffer || job !== this.current || job.stopping) return;
      if (answer === null || answer === undefined) {
        Atomics.store(buffer, InputSlot.STATE, InputState.NO_ANSWER);
      } else {
        const room = new Uint8Array(buffer.byteLength - ANSWER_OFFSET);
        const { written } = new TextEncoder().encodeInto(String(answer), room);
        new Uint8Array(buffer.buffer, ANSWER_OFFSET).set(room.subarray(0, written));
        Atomics.store(buffer, InputSlot.LENGTH, written);
        Atomics.store(buffer, InputSlot.STATE, InputState.ANSWERED);
      }
      Atomics.notify(buffer, InputSlot.STATE);
    };
    asked.then(reply, () => reply(null));
  }

  /** @param {WorkerReply} reply */
  handle(reply) {
    switch (reply.type) {
      case Reply.READY:
        this.info = reply;
        this.booted = true;
        this.readyCallbacks.resolve(reply);
        this.pump();
        break;
      case Reply.PROGRESS:
        if (this.current?.id !== reply.id) break;
        this.current.options.onProgress?.(reply.done, reply.total);
        break;
      case Reply.STDOUT:
        if (this.current?.id !== reply.id) break;
        this.current.options.onStdout?.(reply.text, reply.stream);
        break;
      case Reply.RESULT:
        this.finish(reply.id, reply.value);
        break;
      case Reply.INPUT:
        if (this.current?.id !== reply.id) break;
        this.answer(this.current, reply.prompt);
        break;
      case Reply.CANCELLED:
        // A stopped job rejects with its stop error; for any other this is its code's own doing.
        this.finish(reply.id, unaskedCancel());
        break;
      case Reply.ERROR:
        if (reply.id === null) {
          // Only a request without a readable type and id gets this; this client sends none, so
          // it is a bug worth an uncaught error in the console (like an unknown reply below).
          throw new Error(`The worker refused a request: ${reply.name}: ${reply.message}`);
        }
        this.finish(reply.id, new PythonError(reply.name, reply.message, reply.traceback));
        break;
      case Reply.CRASHED:
        this.crashed(reply.message);
        break;
      case Reply.WARMED:
        this.warmup = reply;
        break;
      case Reply.BOOT_FAILED:
        this.crashed(`The worker could not start: ${reply.name}: ${reply.message}`);
        break;
      default:
        throw new Error(`Unsupported worker reply ${JSON.stringify(/** @type {any} */ (reply).type)}`);
    }
  }
}

/**
 * The ArrayBuffers among `params` (and those under typed arrays), moved to the worker with the
 * request instead of copied: a 64 MiB file then costs no copy on the way. The caller's buffers
 * are detached (empty) afterwards; pass `buffer.slice(0)` to keep one.
 * @param {Record<string, unknown>} params
 * @returns {Transferable[]}
 */
export function transferables(params) {
  /** @type {Set<ArrayBuffer>} */
  const buffers = new Set();
  for (const value of Object.values(params ?? {})) {
    if (value instanceof ArrayBuffer) buffers.add(value);
    else if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) {
      buffers.add(value.buffer);
    }
  }
  return [...buffers];
}

/**
 * `url` resolved against the page (its document's base URL; the worker's own URL in a worker), so
 * a worker fetches what the page meant by "./mymod.py".
 * @param {string} url
 */
function absoluteUrl(url) {
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  return base ? new URL(url, base).href : url;
}

/**
 * Why `job`'s request could not be posted, naming the first param that cannot be cloned.
 * @param {JobState} job
 * @param {unknown} error  what postMessage threw
 */
function unsendable(job, error) {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // A call names its arguments by position or keyword, a run its params.
  const values = job.call
    ? [
        ...job.call.args.map((value, index) => [`argument ${index}`, value]),
        ...Object.entries(job.call.kwargs).map(([key, value]) => [`keyword argument ${key}`, value]),
      ]
    : Object.entries(job.params ?? {}).map(([key, value]) => [`param ${JSON.stringify(key)}`, value]);
  for (const [name, value] of values) {
    try {
      structuredClone(value);
    } catch {
      return (
        `${job.task}: ${name} cannot be sent to a worker ` +
        `(${describeValue(value)} cannot be structured-cloned; send plain data). ${reason}`
      );
    }
  }
  return `${job.task}: the request could not be sent to the worker. ${reason}`;
}

/** @param {unknown} value */
function describeValue(value) {
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return `a ${typeof value}`;
  return `a ${value.constructor?.name ?? "object"}`;
}
