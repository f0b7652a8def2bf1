// The benchmark page's entry point: measurement functions the Python driver (bench/browser.py)
// calls with Playwright's `page.evaluate("offloadBench.name(...)")`. Each returns plain numbers;
// the ratios, goals and the report are computed in Python. What it measures is the page's own
// code: the worker client, the main-thread runner, the frame meter, the click probe, the socket
// client and the volunteering for distributed jobs, imported from the built site; only the bare
// Pyodide worker (baseline.js) is the benchmark's own, as the baseline.

import { BareWorker, roundTrips, taskCall } from "./baseline.js";
import { dataBench } from "./data-bench.js";

// Offload's own modules, at their repository paths (the built site mirrors the repository).
const client = await import("../../worker/client.js");
const frames = await import("../../web/meter/frame-meter.js");
const probe = await import("../../web/meter/latency-probe.js");
const mainThread = await import("../../web/run/main-thread-python.js");
const socketClient = await import("../../web/socket/client.js");
const protocol = await import("../../web/socket/protocol.js");
const distributed = await import("../../web/share/distributed.js");

/** @typedef {import("../../worker/client.js").PythonWorker} PythonWorker */
/** @typedef {import("../../web/socket/protocol.js").MonteCarloResult} MonteCarloResult */
/** @typedef {import("../../web/meter/latency-probe.js").ClickLatency} ClickLatency */
/** @typedef {{maxGapMs: number, frames: number, inputDelayMs: number | null, ms: number}} Responsiveness */

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

// The page's frame meter, running for the life of the page as on the page; each run is one of its
// runs. The page's click probe on #probe: each click reports when it could be painted.
const meter = new frames.FrameMeter();
meter.start();
/** @type {(latency: ClickLatency) => void} */
let onProbeClick = () => {};
probe.attachProbe(
  /** @type {HTMLButtonElement} */ (element("probe")),
  element("probe-count"),
  element("probe-report"),
  (latency) => onProbeClick(latency),
);

/** The next click on #probe: how long after the input the page could paint (milliseconds). */
function nextClickDelay() {
  return new Promise((resolve) => {
    onProbeClick = (latency) => {
      onProbeClick = () => {};
      resolve(latency.paintedAfter);
    };
  });
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
  shared ??= await client.PythonWorker.start();
  return shared;
}

const bench = {
  /** Boot the shared worker and main-thread Pyodide up front, so no later figure includes it. */
  async prepare() {
    await Promise.all([sharedWorker(), mainThread.loadMainThreadPython()]);
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
    const delay = nextClickDelay();
    responsiveRun = (async () => {
      const worker = await sharedWorker();
      await mainThread.loadMainThreadPython();
      await frames.nextFrame();
      await frames.nextFrame();
      meter.beginRun(mode);
      const t0 = performance.now();
      // Exactly as the page's Run buttons do (run-controller.js), progress reported both ways.
      const hooks = { onProgress: () => {}, onStdout: () => {} };
      if (mode === "main") {
        await mainThread.runOnMainThread(task, params, hooks);
      } else {
        await worker.run(task, params, hooks).result;
      }
      const ms = performance.now() - t0;
      const stats = await meter.endRun();
      const inputDelayMs = await within(delay, 5000);
      return { maxGapMs: stats.longestGap, frames: stats.frames, inputDelayMs, ms };
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
    const worker = await client.PythonWorker.start();
    const ms = performance.now() - t0;
    started.push(worker);
    return { ms, timings: worker.info?.timings, boot: worker.info?.boot };
  },

  /**
   * The warm-up of the last worker startOffloadWorker started, once it stopped (the worker that
   * made the snapshot sends one; see WarmedReply); null when none came within `timeoutMs`.
   * @param {number} timeoutMs
   */
  async offloadWarmup(timeoutMs) {
    const worker = /** @type {import("../../worker/client.js").PythonWorker} */ (
      /** @type {unknown} */ (started.at(-1))
    );
    const until = performance.now() + timeoutMs;
    while (!worker.warmup && performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return worker.warmup;
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
    const t0 = performance.now();
    const pool = new client.WorkerPool({ size });
    await pool.ready;
    const t1 = performance.now();
    const image = /** @type {ArrayBuffer} */ (await pool.runSplit("mandelbrot", params).result);
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
    return roundTrips(bytes, reps, (buffer) => [buffer]);
  },

  /**
   * Boot `workers` Offload workers and run one small task in each; they stay up until the page
   * closes. Returns what performance.measureUserAgentSpecificMemory() says then (JavaScript
   * heaps only: it leaves out Pyodide's wasm memory), or null where it is unavailable.
   * @param {number} workers
   */
  async bootForMemory(workers) {
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
    const { ClientType, ServerType } = protocol;
    /** @type {(message: import("../../web/socket/protocol.js").ServerMessage) => void} */
    let onMessage = () => {};
    const hello = new Promise(
      (resolve) => (onMessage = (message) => message.type === ServerType.HELLO && resolve(null)),
    );
    const ours = new socketClient.SocketClient({ onMessage: (message) => onMessage(message) });
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
        onMessage = (message) => message.type === ServerType.PONG && message.id === id && resolve(null);
        ours.send({ type: ClientType.PING, id });
      });
      times.ours.push(performance.now() - t0);
      const text = JSON.stringify({ type: ClientType.PING, id });
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
   * Volunteer for distributed jobs as the page does (distributed.js, one slot): each `job_chunk`
   * is computed in the shared worker and answered with `chunk_result`; collects, per chunk, when
   * it came, how long the worker took, and when the server acked the answer. finishVolunteering
   * resolves after `chunks` chunks.
   * @param {number} chunks
   */
  async startVolunteering(chunks) {
    const worker = await sharedWorker();
    /** @type {{arrivedMs: number, computeMs: number, ackedMs: number}[]} */
    const records = [];
    /** @type {{arrivedMs: number, computeMs: number}} the run that finished last */
    let lastRun = { arrivedMs: 0, computeMs: 0 };
    /** @type {Map<string, {arrivedMs: number, computeMs: number}>} by chunk, until acked */
    const runs = new Map();
    /** @type {(value: typeof records) => void} */
    let finish = () => {};
    volunteering = new Promise((resolve) => (finish = resolve));
    const socket = new socketClient.SocketClient();
    /** @param {{job_id: string, chunk: number}} chunk */
    const key = (chunk) => `${chunk.job_id}/${chunk.chunk}`;
    const membership = distributed.joinDistributedJob(
      socket,
      async (task, params) => {
        const arrivedMs = performance.now();
        const result = /** @type {MonteCarloResult} */ (await worker.run(task, params).result);
        lastRun = { arrivedMs, computeMs: performance.now() - arrivedMs };
        return result;
      },
      {
        slots: 1,
        // Called right after that chunk's run: with one slot the server sends the next chunk only
        // once this one's answer is in, so the last run is this chunk's.
        onChunk: (chunk) => runs.set(key(chunk), lastRun),
        onAcked: (chunk) => {
          const run = runs.get(key(chunk));
          runs.delete(key(chunk));
          if (!run) return;
          records.push({ ...run, ackedMs: performance.now() });
          if (records.length >= chunks) {
            membership.leave();
            socket.close();
            finish(records);
          }
        },
      },
    );
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

/** @type {any} */ (globalThis).offloadBench = { ...bench, ...dataBench };
document.body.dataset.ready = "true";
