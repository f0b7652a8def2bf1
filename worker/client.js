// The main-thread API over a Pyodide worker: start it, run named Python tasks, get results.
// The page imports this module and never touches postMessage itself.
//
//   const worker = await PythonWorker.start();
//   const job = worker.run("primes", { n: 2_000_000 }, { onProgress: (done, total) => {} });
//   const { count } = await job.result;

import { Reply, Request } from "./protocol.js";

/** @typedef {import("./protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("./protocol.js").ReadyReply} ReadyReply */

/**
 * Callbacks for one run.
 * @typedef {object} RunOptions
 * @property {(done: number, total: number) => void} [onProgress]
 */

/**
 * A Python exception raised by a task; `name` is the Python type, `traceback` Python's own text.
 */
export class PythonError extends Error {
  /** @param {string} type @param {string} message @param {string | undefined} traceback */
  constructor(type, message, traceback) {
    super(message);
    this.name = "PythonError";
    /** The Python exception type, e.g. "ValueError". */
    this.type = type;
    this.traceback = traceback ?? "";
  }
}

/** The worker failed to boot or stopped answering. */
export class WorkerCrashedError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "WorkerCrashedError";
  }
}

/**
 * A running task: `result` settles once, with the task's value or an Error.
 * @template T
 * @typedef {object} Job
 * @property {number} id
 * @property {Promise<T>} result
 */

export class PythonWorker {
  /**
   * Start a worker and wait until Python is ready.
   * @returns {Promise<PythonWorker>}
   */
  static async start() {
    const worker = new PythonWorker();
    await worker.ready;
    return worker;
  }

  constructor() {
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    /** @type {Map<number, {resolve: (value: any) => void, reject: (error: Error) => void, options: RunOptions}>} */
    this.pending = new Map();
    this.nextId = 1;
    /** @type {ReadyReply | null} what the worker reported when it booted */
    this.info = null;
    /** @type {Promise<ReadyReply>} */
    this.ready = new Promise((resolve, reject) => {
      this.readyCallbacks = { resolve, reject };
    });
    this.worker.onmessage = (/** @type {MessageEvent<WorkerReply>} */ event) =>
      this.handle(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new WorkerCrashedError(`The worker failed: ${event.message || "script error"}`));
    };
  }

  /**
   * Run the Python task `task` with `params`.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {RunOptions} [options]
   * @returns {Job<any>}
   */
  run(task, params, options = {}) {
    const id = this.nextId++;
    const result = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, options });
    });
    this.worker.postMessage({ type: Request.RUN, id, task, params });
    return { id, result };
  }

  /** Stop the worker at once; every unfinished job rejects. */
  terminate() {
    this.worker.terminate();
    this.fail(new WorkerCrashedError("The worker was terminated."));
  }

  /** @param {Error} error */
  fail(error) {
    this.readyCallbacks?.reject(error);
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  /** @param {WorkerReply} reply */
  handle(reply) {
    switch (reply.type) {
      case Reply.READY:
        this.info = reply;
        this.readyCallbacks?.resolve(reply);
        break;
      case Reply.PROGRESS:
        this.pending.get(reply.id)?.options.onProgress?.(reply.done, reply.total);
        break;
      case Reply.RESULT:
        this.pending.get(reply.id)?.resolve(reply.value);
        this.pending.delete(reply.id);
        break;
      case Reply.ERROR:
        if (reply.id === null) {
          this.fail(new WorkerCrashedError(reply.message));
        } else {
          this.pending.get(reply.id)?.reject(new PythonError(reply.name, reply.message, reply.traceback));
          this.pending.delete(reply.id);
        }
        break;
      default:
        throw new Error(`Unsupported worker reply ${JSON.stringify(/** @type {any} */ (reply).type)}`);
    }
  }
}
