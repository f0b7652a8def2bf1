// A pool of Python workers: jobs go to whichever worker is free, and `mandelbrot` splits one
// image into row bands across them, drawing each band as it arrives. Import it from client.js.
//
//   const pool = await WorkerPool.start({ size: 4 });
//   const rgba = await pool.mandelbrot({ width: 480, height: 320, max_iter: 200 },
//     { onBand: ({ start, stop, pixels }) => draw(start, stop, pixels) });
//
// Every worker is a PythonWorker, which replaces its own Web Worker after a crash or an ignored
// cancel, so the pool keeps its size without doing anything itself.

// client.js re-exports this module, so this import is a cycle; it is harmless because
// PythonWorker and the errors are only used when a pool is created, after both modules ran.
import { CancelledError, PythonWorker, TimeoutError, WorkerCrashedError } from "./client.js";

/** @typedef {import("./client.js").RunOptions} RunOptions */
/** @typedef {import("./client.js").WorkerOptions} WorkerOptions */
/** @typedef {import("./protocol.js").ReadyReply} ReadyReply */
/** @template T @typedef {import("./client.js").Job<T>} Job */

/**
 * @typedef {WorkerOptions & {size?: number}} PoolOptions
 */

/**
 * One band of a mandelbrot image: rows [start, stop), `pixels` their RGBA bytes.
 * @typedef {{start: number, stop: number, width: number, pixels: Uint8ClampedArray}} Band
 */

/**
 * @typedef {object} MandelbrotOptions
 * @property {(band: Band) => void} [onBand]  each band as it arrives (in any order)
 * @property {(done: number, total: number) => void} [onProgress]  rows done of the image's height
 * @property {AbortSignal} [signal]  abort to cancel every band
 * @property {number} [timeout]  milliseconds for the whole image
 * @property {number} [bands]  how many bands (default: 4 per worker, at most one per row)
 */

/**
 * A pool job waiting for or running on a worker.
 * @typedef {object} PoolJob
 * @property {string} task
 * @property {Record<string, unknown>} params
 * @property {RunOptions} options
 * @property {number | null} deadline  performance.now() by which it must finish
 * @property {(value: any) => void} resolve
 * @property {(error: Error) => void} reject
 * @property {Job<any> | null} inner  the worker's job once dispatched
 * @property {boolean} settled
 */

/** The default pool size: one worker per core, at most four (each holds its own ~30 MB heap). */
export function defaultPoolSize() {
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 4));
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
    const id = this.nextId++;
    const { timeout, signal, ...callbacks } = options;
    /** @type {PoolJob} */
    let job = /** @type {any} */ (null);
    const result = new Promise((resolve, reject) => {
      const deadline = timeout === undefined ? null : performance.now() + timeout;
      job = { task, params, options: callbacks, deadline, resolve, reject, inner: null, settled: false };
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
   * Draw a Mandelbrot image with the whole pool: the rows are split into bands, one job each.
   * The bytes are exactly those of one `mandelbrot` run over the whole image, whatever the split.
   * @param {Record<string, unknown>} params  the mandelbrot task's params (without `rows`)
   * @param {MandelbrotOptions} [options]
   * @returns {Promise<ArrayBuffer>} width*height*4 RGBA bytes, top row first
   */
  async mandelbrot(params, { onBand, onProgress, signal, timeout, bands } = {}) {
    const { width, height } = params;
    const valid = (/** @type {unknown} */ side) => Number.isInteger(side) && Number(side) >= 1;
    if (!valid(width) || !valid(height)) {
      // Nothing sensible to split: one job, whose parameter check says what is wrong.
      return this.run("mandelbrot", params, { onProgress, signal, timeout }).result;
    }
    const w = Number(width);
    const h = Number(height);
    const count = Math.min(h, bands ?? this.size * 4);
    const image = new Uint8Array(w * h * 4);
    const rowsDone = new Array(count).fill(0);
    const stopAll = new AbortController();
    const onAbort = () => stopAll.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) stopAll.abort();
    const jobs = Array.from({ length: count }, (_, index) => {
      const start = Math.floor((index * h) / count);
      const stop = Math.floor(((index + 1) * h) / count);
      const job = this.run(
        "mandelbrot",
        { ...params, rows: [start, stop] },
        {
          signal: stopAll.signal,
          timeout,
          onProgress: (done) => {
            rowsDone[index] = done;
            onProgress?.(
              rowsDone.reduce((a, b) => a + b, 0),
              h,
            );
          },
        },
      );
      return job.result.then((/** @type {ArrayBuffer} */ buffer) => {
        image.set(new Uint8Array(buffer), start * w * 4);
        onBand?.({ start, stop, width: w, pixels: new Uint8ClampedArray(buffer) });
      });
    });
    try {
      await Promise.all(jobs);
    } catch (error) {
      stopAll.abort(); // the other bands are no longer wanted
      throw error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return image.buffer;
  }

  /** Stop every worker; every unfinished job rejects with WorkerCrashedError. */
  terminate() {
    const error = new WorkerCrashedError("The pool was terminated.");
    for (const job of this.queue.splice(0)) this.settle(job, error);
    for (const worker of this.workers) worker.terminate();
  }

  // --- internals -------------------------------------------------------------------------------

  /** Hand queued jobs to idle workers. */
  dispatch() {
    for (const worker of this.workers) {
      if (this.queue.length === 0) return;
      if (this.busy.has(worker) || worker.closed) continue;
      const job = /** @type {PoolJob} */ (this.queue.shift());
      const remaining = job.deadline === null ? undefined : Math.max(0, job.deadline - performance.now());
      job.inner = worker.run(job.task, job.params, { ...job.options, timeout: remaining });
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
