// A pool of Python workers: jobs go to whichever worker is free, and `runSplit` divides a task's
// declared range (its RangeParam, e.g. mandelbrot's rows) into parts run across the workers,
// handing each part over as it arrives. The pool knows no task: the schema each worker reports in
// `ready` says which param is the range, what bounds it and whether results are bytes.
//
//   const pool = await WorkerPool.start({ size: 4 });
//   const job = pool.runSplit("mandelbrot", { width: 480, height: 320, max_iter: 200 },
//     { onPart: ({ start, stop, value }) => draw(start, stop, value) });
//   const rgba = await job.result;   // the parts' bytes, concatenated in order
//
// Every worker is a PythonWorker, which replaces its own Web Worker after a crash or an ignored
// cancel, so the pool keeps its size without doing anything itself.

import { CancelledError, TimeoutError, WorkerCrashedError } from "./errors.js";
import { PythonWorker } from "./python-worker.js";

/** @typedef {import("./python-worker.js").RunOptions} RunOptions */
/** @typedef {import("./python-worker.js").CallOptions} CallOptions */
/** @typedef {import("./python-worker.js").WorkerOptions} WorkerOptions */
/** @typedef {import("./protocol.js").ReadyReply} ReadyReply */
/** @typedef {import("./protocol.js").TaskInfo} TaskInfo */
/** @typedef {import("./protocol.js").ParamInfo} ParamInfo */
/** @template T @typedef {import("./python-worker.js").Job<T>} Job */

/**
 * @typedef {WorkerOptions & {size?: number}} PoolOptions
 */

/**
 * One part of a split run: the task's result for [start, stop) of its range.
 * @typedef {{start: number, stop: number, value: unknown}} Part
 */

/**
 * @typedef {object} SplitOptions
 * @property {(part: Part) => void} [onPart]  each part as it arrives (in any order)
 * @property {(done: number, total: number) => void} [onProgress]  progress in units of the
 *   range: `total` is the range's length, `done` each part's reported fraction times its length
 * @property {AbortSignal} [signal]  abort to cancel every part
 * @property {number} [timeout]  milliseconds for the whole run
 * @property {number} [parts]  how many parts (default: 4 per worker, at most one per unit)
 */

/**
 * A split run: `result` is the combined value (see WorkerPool.runSplit); `cancel` stops every part.
 * @typedef {{result: Promise<unknown>, cancel: () => void}} SplitJob
 */

/**
 * A pool job waiting for or running on a worker.
 * @typedef {object} PoolJob
 * @property {string} task
 * @property {Record<string, unknown>} params
 * @property {{args: unknown[], kwargs: Record<string, unknown>} | null} call  a `call`'s
 *   arguments (`task` is then the function's name); null for a `run`
 * @property {RunOptions} options
 * @property {number | null} deadline  performance.now() by which it must finish
 * @property {(value: any) => void} resolve
 * @property {(error: Error) => void} reject
 * @property {Job<any> | null} inner  the worker's job once dispatched
 * @property {boolean} settled
 */

/**
 * The splittable dimension a task declares: its range param and the param bounding it, or null
 * when the task cannot be split.
 * @param {TaskInfo} task
 * @returns {{range: string, bound: string, boundDefault: unknown} | null}
 */
export function splitRange(task) {
  const range = task.params.find((param) => param.kind === "range");
  if (!range?.bound) return null;
  const bound = task.params.find((param) => param.name === range.bound);
  // Python falls back to a default only for an optional param; a required one must be given.
  const boundDefault = bound && !bound.required ? bound.default : null;
  return { range: range.name, bound: range.bound, boundDefault };
}

/** The most workers a default pool starts: each boots Pyodide and holds its own ~30 MB heap. */
export const MAX_POOL_SIZE = 4;

/**
 * The most workers a default pool starts when the engine cannot show its core count is real.
 * Engines that hide the device's memory also round the core count they report, for privacy:
 * WebKit reports 4 on a 2-core machine (Safari 4 or 8 on any Mac), and four Pyodide boots at once
 * on two cores took WebKitGTK a minute or more where two take seconds (docs/engines.md).
 */
export const UNVERIFIED_POOL_SIZE = 2;

/**
 * The default pool size for a machine: one worker per core the engine reports, at most
 * MAX_POOL_SIZE; at most two workers per GiB of device memory where the engine says
 * (`navigator.deviceMemory`, Chromium: its core count is the machine's), otherwise at most
 * UNVERIFIED_POOL_SIZE, since the reported core count may be a privacy bucket.
 * @param {{hardwareConcurrency?: number, deviceMemory?: number}} [machine]  `navigator`, by default;
 *   absent in Node (before 21), where the unit tests import this module
 * @returns {number}
 */
export function defaultPoolSize(machine = globalThis.navigator ?? {}) {
  const cores = machine.hardwareConcurrency || 1;
  const memory = machine.deviceMemory;
  const bound = typeof memory === "number" && memory > 0 ? Math.floor(memory * 2) : UNVERIFIED_POOL_SIZE;
  return Math.max(1, Math.min(cores, MAX_POOL_SIZE, bound));
}

export class WorkerPool {
  /**
   * Start a pool and wait until every worker is ready.
   * @param {PoolOptions} [options]
   * @returns {Promise<WorkerPool>}
   */
  static async start(options) {
    const pool = new WorkerPool(options);
    await pool.ready;
    return pool;
  }

  /**
   * Start `size` workers; `run` may be called at once (jobs wait for a free worker).
   * @param {PoolOptions} [options]
   */
  constructor({ size = defaultPoolSize(), ...workerOptions } = {}) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`size must be a positive integer, got ${size}`);
    }
    /** @type {PythonWorker[]} */
    this.workers = Array.from({ length: size }, () => new PythonWorker(workerOptions));
    /** @type {Promise<ReadyReply[]>} */
    this.ready = Promise.all(this.workers.map((worker) => worker.ready));
    this.ready.catch(() => {}); // jobs reject too; no unhandled rejection
    /**
     * The first worker's ready reply, as soon as one is ready (runs can start then); rejects with
     * the first failure only when every worker failed.
     * @type {Promise<ReadyReply>}
     */
    this.firstReady = Promise.any(this.workers.map((worker) => worker.ready)).catch(
      (/** @type {AggregateError} */ error) => Promise.reject(error.errors[0]),
    );
    this.firstReady.catch(() => {});
    /** @type {PoolJob[]} */
    this.queue = [];
    /** @type {Set<PythonWorker>} */
    this.busy = new Set();
    this.nextId = 1;
  }

  /** How many workers the pool has. */
  get size() {
    return this.workers.length;
  }

  /** How many times the pool's workers were replaced in all. */
  get restarts() {
    return this.workers.reduce((sum, worker) => sum + worker.restarts, 0);
  }

  /**
   * Run `task` on the next free worker. Same options as PythonWorker.run; `timeout` counts from
   * this call, time in the pool's queue included.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {RunOptions} [options]
   * @returns {Job<any>}
   */
  run(task, params, options = {}) {
    return this.enqueue(task, params, null, options);
  }

  /**
   * Call your own function `name` on the next free worker (PythonWorker.call; every worker of the
   * pool loaded the `modules` and `packages` the pool was started with).
   * @param {string} name  "module.function"
   * @param {unknown[]} [args]
   * @param {CallOptions} [options]
   * @returns {Job<any>}
   */
  call(name, args = [], options = {}) {
    const { kwargs = {}, ...runOptions } = options;
    return this.enqueue(name, {}, { args, kwargs }, runOptions);
  }

  /**
   * Queue a run (`call` null) or a call for the next free worker.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {PoolJob["call"]} call
   * @param {RunOptions} options
   * @returns {Job<any>}
   */
  enqueue(task, params, call, options) {
    const id = this.nextId++;
    const { timeout, signal, ...callbacks } = options;
    /** @type {PoolJob} */
    let job = /** @type {any} */ (null);
    const result = new Promise((resolve, reject) => {
      const deadline = timeout === undefined ? null : performance.now() + timeout;
      job = { task, params, call, options: callbacks, deadline, resolve, reject, inner: null, settled: false };
    });
    /** @param {Error} error */
    const stop = (error) => {
      if (job.settled) return;
      if (job.inner) {
        job.inner.cancel(); // the worker rejects it (and its worker is fine afterwards)
      } else {
        const index = this.queue.indexOf(job);
        if (index >= 0) this.queue.splice(index, 1);
        this.settle(job, error);
      }
    };
    const cancel = () => stop(new CancelledError());
    if (timeout !== undefined) {
      // Only while queued: once dispatched, the worker enforces the remaining time itself.
      const timer = setTimeout(() => job.inner || stop(new TimeoutError(timeout)), timeout);
      result.finally(() => clearTimeout(timer)).catch(() => {});
    }
    if (signal?.aborted) {
      this.settle(job, new CancelledError());
      return { id, result, cancel };
    }
    signal?.addEventListener("abort", cancel, { once: true });
    result.finally(() => signal?.removeEventListener("abort", cancel)).catch(() => {});
    this.queue.push(job);
    this.dispatch();
    return { id, result, cancel };
  }

  /**
   * Run `task` split along its declared range across the pool: the range (the `range` param's
   * value, or all of [0, value of its bound)) is cut into `parts` contiguous parts, one job each.
   * `result` resolves with the parts combined in order: for a task returning bytes, one
   * ArrayBuffer of the parts' bytes concatenated (a splittable bytes task promises this equals
   * one run over the whole range); otherwise the array of the parts' values. The first part to
   * fail rejects `result` and cancels the others. Sizes that cannot be split (not integers, an
   * empty range) run as one job, whose parameter check says what is wrong.
   * @param {string} task  a task whose schema declares a range param (see splitRange)
   * @param {Record<string, unknown>} params  its params; the range param may be left out
   * @param {SplitOptions} [options]
   * @returns {SplitJob}
   */
  runSplit(task, params, options = {}) {
    const { parts, signal } = options;
    if (parts !== undefined && !(Number.isInteger(parts) && parts >= 1)) {
      throw new RangeError(`parts must be a positive integer, got ${parts}`);
    }
    const stopAll = new AbortController();
    const onAbort = () => stopAll.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) stopAll.abort();
    const deadline = options.timeout === undefined ? null : performance.now() + options.timeout;
    const result = this.split(task, params, options, stopAll, deadline).finally(() =>
      signal?.removeEventListener("abort", onAbort),
    );
    return { result, cancel: () => stopAll.abort() };
  }

  /**
   * The schema of `task` as the pool's first booted worker reported it (null: no such task).
   * @param {string} task
   * @returns {Promise<TaskInfo | null>}
   */
  async schema(task) {
    const info = await this.firstReady;
    return info.tasks.find((candidate) => candidate.name === task) ?? null;
  }
  /** Stop every worker; every unfinished job rejects with WorkerCrashedError. */
  terminate() {
    const error = new WorkerCrashedError("The pool was terminated.");
    for (const job of this.queue.splice(0)) this.settle(job, error);
    for (const worker of this.workers) worker.terminate();
  }

  // --- internals -------------------------------------------------------------------------------

  /**
   * runSplit's work: plan the parts, run them, combine them.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {SplitOptions} options
   * @param {AbortController} stopAll  aborts every part
   * @param {number | null} deadline  performance.now() by which the whole run must finish
   * @returns {Promise<unknown>}
   */
  async split(task, params, { onPart, onProgress, timeout, parts }, stopAll, deadline) {
    const schema = await this.schema(task);
    if (stopAll.signal.aborted) throw new CancelledError();
    if (deadline !== null && performance.now() >= deadline) {
      throw new TimeoutError(/** @type {number} */ (timeout));
    }
    const declared = schema && splitRange(schema);
    if (schema && !declared) {
      throw new TypeError(`${task} declares no range to split over; run it with run()`);
    }
    const span = declared ? rangeOf(params, declared) : null;
    // An unknown task, or sizes that are no valid range: one job, and Python says what is wrong.
    const [start, stop] = span ?? [0, 0];
    const count = span ? Math.min(stop - start, parts ?? this.size * 4) : 1;
    const done = new Array(count).fill(0);
    const partJobs = Array.from({ length: count }, async (_, index) => {
      const from = start + Math.floor((index * (stop - start)) / count);
      const to = start + Math.floor(((index + 1) * (stop - start)) / count);
      const partParams = span && declared ? { ...params, [declared.range]: [from, to] } : params;
      const remaining = deadline === null ? undefined : Math.max(0, deadline - performance.now());
      const job = this.run(task, partParams, {
        signal: stopAll.signal,
        timeout: remaining,
        onProgress: (partDone, partTotal) => {
          done[index] = partTotal > 0 ? (partDone / partTotal) * (to - from) : 0;
          onProgress?.(
            done.reduce((a, b) => a + b, 0),
            stop - start,
          );
        },
      });
      const value = await job.result;
      const part = { start: from, stop: to, value };
      onPart?.(part);
      return part;
    });
    // Rejections are handled below, each part's by the first failure's handler or by allSettled.
    let finished;
    try {
      finished = await Promise.all(partJobs);
    } catch (error) {
      stopAll.abort(); // the other parts are no longer wanted
      await Promise.allSettled(partJobs);
      // A part's deadline was what was left of the whole run's: report the whole run's timeout.
      if (error instanceof TimeoutError && timeout !== undefined) throw new TimeoutError(timeout);
      throw error;
    }
    return combine(schema, finished);
  }

  /** Hand queued jobs to idle workers. */
  dispatch() {
    for (const worker of this.workers) {
      if (this.queue.length === 0) return;
      if (this.busy.has(worker) || worker.closed) continue;
      const job = /** @type {PoolJob} */ (this.queue.shift());
      const remaining = job.deadline === null ? undefined : Math.max(0, job.deadline - performance.now());
      const options = { ...job.options, timeout: remaining };
      job.inner = job.call
        ? worker.call(job.task, job.call.args, { ...options, kwargs: job.call.kwargs })
        : worker.run(job.task, job.params, options);
      this.busy.add(worker);
      job.inner.result
        .then(
          (value) => this.settle(job, value),
          (/** @type {Error} */ error) => this.settle(job, error),
        )
        .finally(() => {
          this.busy.delete(worker);
          this.dispatch();
        });
    }
    if (this.queue.length > 0 && this.workers.every((worker) => worker.closed)) {
      const error = new WorkerCrashedError("Every worker of the pool has stopped.");
      for (const job of this.queue.splice(0)) this.settle(job, error);
    }
  }

  /**
   * @param {PoolJob} job
   * @param {unknown} outcome  an Error rejects
   */
  settle(job, outcome) {
    if (job.settled) return;
    job.settled = true;
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }
}

/**
 * The half-open range a split run covers, or null when it is not a non-empty range of integers.
 * @param {Record<string, unknown>} params
 * @param {{range: string, bound: string, boundDefault: unknown}} declared
 * @returns {[number, number] | null}
 */
function rangeOf(params, declared) {
  const given = params[declared.range];
  const limit = params[declared.bound] ?? declared.boundDefault;
  const [start, stop] = Array.isArray(given) && given.length === 2 ? given : [0, limit];
  const valid = Number.isSafeInteger(start) && Number.isSafeInteger(stop) && Number.isSafeInteger(limit);
  if (!valid || start < 0 || stop > Number(limit) || start >= stop) return null;
  return [Number(start), Number(stop)];
}

/**
 * The parts of a split run as one value: bytes concatenated in order, else the values in order.
 * @param {TaskInfo | null} schema
 * @param {Part[]} parts  in range order
 * @returns {unknown}
 */
function combine(schema, parts) {
  if (schema?.returns !== "bytes") return parts.map((part) => part.value);
  const buffers = parts.map((part) => new Uint8Array(/** @type {ArrayBuffer} */ (part.value)));
  const whole = new Uint8Array(buffers.reduce((sum, bytes) => sum + bytes.byteLength, 0));
  let offset = 0;
  for (const bytes of buffers) {
    whole.set(bytes, offset);
    offset += bytes.byteLength;
  }
  return whole.buffer;
}
