// The benchmark page's entry point: measurement functions the Python driver (bench/browser.py)
// calls with Playwright's `page.evaluate("offloadBench.name(...)")`. Each returns plain numbers;
// the ratios, goals and the report are computed in Python.

import { FrameMeter, afterNextPaint, clickToPaint } from "./meter.js";
import { BareWorker, mainThreadPython, offloadClient, taskCall } from "./python.js";

/** @typedef {import("../../worker/client.js").PythonWorker} PythonWorker */
/** @typedef {typeof import("../../web/socket.js")} SocketModule */
/** @typedef {{maxGapMs: number, frames: number, inputDelayMs: number | null, ms: number}} Responsiveness */

/** @returns {Promise<SocketModule>} */
function socketModule() {
  return import(new URL("../socket.js", import.meta.url).href);
}

/** @param {string} id */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found;
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T | null>}
 */
function within(promise, ms) {
  return Promise.race([promise, sleep(ms).then(() => null)]);
}

/** @type {PythonWorker | null} the worker most measurements share (booted once) */
let shared = null;
/** @type {Promise<Responsiveness> | null} */
let responsiveRun = null;
/** @type {BareWorker | null} the bare worker of the overhead baseline (booted once) */
let bare = null;
/** @type {Promise<{arrivedMs: number, computeMs: number, ackedMs: number}[]> | null} */
let volunteering = null;
/** @type {{terminate: () => void}[]} workers started by the start-up measurements */
const started = [];

async function sharedWorker() {
  shared ??= await (await offloadClient()).PythonWorker.start();
  return shared;
}

const bench = {
  /** Boot the shared worker and main-thread Pyodide up front, so no later figure includes it. */
  async prepare() {
    await Promise.all([sharedWorker(), mainThreadPython()]);
    return { crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency };
  },

  /**
   * Start a run of `task` on the main thread or in the worker with the frame meter going and a
   * click probe armed; the driver clicks #probe while it runs, then calls finishResponsiveRun.
   * @param {"main" | "worker"} mode
   * @param {string} task
   * @param {Record<string, unknown>} params
   */
  startResponsiveRun(mode, task, params) {
    const probe = element("probe");
    probe.textContent = "click me";
    const delay = clickToPaint(probe);
    const meter = new FrameMeter();
    responsiveRun = (async () => {
      const worker = await sharedWorker();
      const pyodide = await mainThreadPython();
      meter.start();
      await afterNextPaint();
      await afterNextPaint();
      const t0 = performance.now();
      if (mode === "main") {
        pyodide.runPython(taskCall(task, params))?.destroy?.();
      } else {
        await worker.run(task, params, { onProgress: () => {} }).result;
      }
      const ms = performance.now() - t0;
      await afterNextPaint();
      const frames = meter.stop();
      const inputDelayMs = await within(delay, 5000);
      return { ...frames, inputDelayMs, ms };
    })();
  },

  /** @returns {Promise<Responsiveness>} */
  async finishResponsiveRun() {
    if (responsiveRun === null) throw new Error("startResponsiveRun was not called");
    const result = await responsiveRun;
    responsiveRun = null;
    return result;
  },

  /**
   * Wall time of `task` through PythonWorker.run with progress on, as the page sees it.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {number} reps
   */
  async workerRuns(task, params, reps) {
    const worker = await sharedWorker();
    const times = [];
    let progress = 0;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await worker.run(task, params, { onProgress: () => progress++ }).result;
      times.push(performance.now() - t0);
    }
    return { times, progress };
  },

  /**
   * Wall time of the same call through a bare worker's runPython, as the page sees it.
   * @param {string} task
   * @param {Record<string, unknown>} params
   * @param {number} reps
   */
  async bareRuns(task, params, reps) {
    bare ??= (await BareWorker.start(true)).worker;
    const times = [];
    const inside = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const { ms } = await bare.run(taskCall(task, params));
      times.push(performance.now() - t0);
      inside.push(ms);
    }
    return { times, inside };
  },

  /** Time from `PythonWorker.start()` to ready (the worker is kept until terminateStarted). */
  async startOffloadWorker() {
    const t0 = performance.now();
    const worker = await (await offloadClient()).PythonWorker.start();
    const ms = performance.now() - t0;
    started.push(worker);
    return { ms, timings: worker.info?.timings };
  },

  /**
   * Time from `new Worker` to a bare `loadPyodide` being ready.
   * @param {boolean} withWheel
   */
  async startBareWorker(withWheel) {
    const { worker, ms, insideMs } = await BareWorker.start(withWheel);
    started.push(worker);
    return { ms, insideMs };
  },

  terminateStarted() {
    for (const worker of started.splice(0)) worker.terminate();
  },

  /**
   * Mandelbrot on a WorkerPool of `size`: from `new WorkerPool` to the image (startup included),
   * and from the pool being ready to the image (startup excluded).
   * @param {number} size
   * @param {Record<string, unknown>} params
   */
  async pool(size, params) {
    const client = /** @type {any} */ (await offloadClient());
    if (typeof client.WorkerPool !== "function") return null;
    const t0 = performance.now();
    const pool = new client.WorkerPool({ size });
    await pool.ready;
    const t1 = performance.now();
    const image = await pool.runSplit("mandelbrot", params).result;
    const t2 = performance.now();
    pool.terminate();
    return { includedMs: t2 - t0, excludedMs: t2 - t1, bytes: image.byteLength };
  },

  /**
   * Round trips of an ArrayBuffer of `bytes` to a worker and back, moved or copied.
   * @param {number} bytes
   * @param {number} reps
   */
  async transfer(bytes, reps) {
    const worker = new Worker(new URL("./workers/echo-worker.js", import.meta.url), { type: "module" });
    let buffer = new Uint8Array(bytes).fill(7).buffer;
    /** @param {boolean} transfer */
    const once = (transfer) =>
      new Promise((resolve) => {
        const t0 = performance.now();
        worker.onmessage = (event) => {
          buffer = event.data.buffer; // touching data is what deserializes a clone
          resolve(performance.now() - t0);
        };
        worker.postMessage({ buffer, transfer }, transfer ? [buffer] : []);
      });
    await once(true); // the worker's module has loaded once this returns
    /** @type {{transfer: number[], clone: number[]}} */
    const times = { transfer: [], clone: [] };
    for (let i = 0; i < reps; i++) {
      times.transfer.push(/** @type {number} */ (await once(true)));
      times.clone.push(/** @type {number} */ (await once(false)));
    }
    worker.terminate();
    return { ...times, bytes: buffer.byteLength };
  },

  /**
   * Boot `workers` Offload workers and run one small task in each; they stay up until the page
   * closes. Returns what performance.measureUserAgentSpecificMemory() says then (JavaScript
   * heaps only: it leaves out Pyodide's wasm memory), or null where it is unavailable.
   * @param {number} workers
   */
  async bootForMemory(workers) {
    const client = await offloadClient();
    for (let i = 0; i < workers; i++) {
      const worker = await client.PythonWorker.start();
      await worker.run("primes", { n: 100_000 }).result;
      started.push(worker);
    }
    const perf = /** @type {any} */ (performance);
    if (typeof perf.measureUserAgentSpecificMemory !== "function") return null;
    return (await perf.measureUserAgentSpecificMemory()).bytes;
  },

  /**
   * Round trips, interleaved: `ping` -> `pong` through our SocketClient and /ws, and the same text
   * through a raw WebSocket to a bare aiohttp echo server.
   * @param {string} echoUrl
   * @param {number} count
   */
  async socketRtt(echoUrl, count) {
    const { SocketClient } = await socketModule();
    /** @type {(message: {type: string, id?: string | null}) => void} */
    let onMessage = () => {};
    const hello = new Promise((resolve) => (onMessage = (message) => message.type === "hello" && resolve(null)));
    const ours = new SocketClient({ onMessage: (message) => onMessage(message) });
    ours.connect();
    await hello;
    const bare = new WebSocket(echoUrl);
    await new Promise((resolve, reject) => {
      bare.onopen = resolve;
      bare.onerror = () => reject(new Error(`cannot open ${echoUrl}`));
    });
    const times = { ours: /** @type {number[]} */ ([]), bare: /** @type {number[]} */ ([]) };
    for (let i = 0; i < count; i++) {
      const id = `rtt-${i}`;
      let t0 = performance.now();
      await new Promise((resolve) => {
        onMessage = (message) => message.type === "pong" && message.id === id && resolve(null);
        ours.send({ type: "ping", id });
      });
      times.ours.push(performance.now() - t0);
      const text = JSON.stringify({ type: "ping", id });
      t0 = performance.now();
      await new Promise((resolve) => {
        bare.onmessage = (event) => event.data === text && resolve(null);
        bare.send(text);
      });
      times.bare.push(performance.now() - t0);
    }
    ours.close();
    bare.close();
    return times;
  },

  /**
   * Volunteer for distributed jobs: each `job_chunk` is computed in the shared worker and answered
   * with `chunk_result`; collects, per chunk, when it came, how long the worker took, and when the
   * server acked the answer. finishVolunteering resolves after `chunks` chunks.
   * @param {number} chunks
   */
  async startVolunteering(chunks) {
    const { SocketClient, newId } = await socketModule();
    const worker = await sharedWorker();
    /** @type {{arrivedMs: number, computeMs: number, ackedMs: number}[]} */
    const records = [];
    /** @type {(value: typeof records) => void} */
    let finish = () => {};
    volunteering = new Promise((resolve) => (finish = resolve));
    /** @type {Promise<unknown>} */
    let queue = Promise.resolve();
    const socket = new SocketClient({
      onMessage: (message) => {
        if (message.type === "hello") socket.send({ type: "jobs_join", slots: 1 });
        if (message.type !== "job_chunk") return;
        const arrivedMs = performance.now();
        const chunk = /** @type {any} */ (message);
        queue = queue.then(async () => {
          const t0 = performance.now();
          const result = await worker.run(chunk.task, chunk.params).result;
          const computeMs = performance.now() - t0;
          await socket.sendReliable({
            type: "chunk_result",
            id: newId(),
            job_id: chunk.job_id,
            chunk: chunk.chunk,
            result,
          });
          records.push({ arrivedMs, computeMs, ackedMs: performance.now() });
          if (records.length >= chunks) {
            socket.close();
            finish(records);
          }
        });
      },
    });
    socket.connect();
    await new Promise((resolve) => {
      const check = () => (socket.clientId ? resolve(null) : setTimeout(check, 10));
      check();
    });
  },

  async finishVolunteering() {
    if (volunteering === null) throw new Error("startVolunteering was not called");
    return await volunteering;
  },
};

/** @type {any} */ (globalThis).offloadBench = bench;
document.body.dataset.ready = "true";
