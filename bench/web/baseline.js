// The benchmark's baseline: a bare Pyodide worker (workers/bare-worker.js) that runs Python source
// and nothing else, so "Offload's worker ÷ this" is exactly what Offload's worker adds. Everything
// else the benchmark measures is the page's own code (see bench.js).

/**
 * The Python expression that runs task `task` natively in an interpreter with the wheel loaded.
 * JSON text is a valid Python string literal, so the params go in as one.
 * @param {string} task
 * @param {Record<string, unknown>} params
 */
export function taskCall(task, params) {
  const json = JSON.stringify(JSON.stringify(params));
  return `__import__("offload.tasks").tasks.run_task(${JSON.stringify(task)}, __import__("json").loads(${json}))`;
}

/** A bare Pyodide worker: see workers/bare-worker.js. */
export class BareWorker {
  /**
   * Start one and wait until Python is ready.
   * @param {boolean} withWheel load the offload wheel too (needed to run a task)
   * @returns {Promise<{worker: BareWorker, ms: number, insideMs: number}>}
   */
  static async start(withWheel) {
    const started = performance.now();
    const worker = new BareWorker(withWheel);
    const insideMs = await worker.ready;
    return { worker, ms: performance.now() - started, insideMs };
  }

  /** @param {boolean} withWheel */
  constructor(withWheel) {
    const url = new URL(`./workers/bare-worker.js?wheel=${withWheel ? 1 : 0}`, import.meta.url);
    this.worker = new Worker(url, { type: "module" });
    this.nextId = 1;
    /** @type {Map<number, (value: {ms: number, value: unknown}) => void>} */
    this.pending = new Map();
    /** @type {(ms: number) => void} */
    let onReady = () => {};
    /** @type {Promise<number>} */
    this.ready = new Promise((resolve) => (onReady = resolve));
    this.worker.onmessage = (event) => {
      const reply = event.data;
      if (reply.type === "ready") onReady(reply.ms);
      else if (reply.type === "result") this.pending.get(reply.id)?.(reply);
      else throw new Error(`Unsupported bare worker reply ${JSON.stringify(reply.type)}`);
    };
  }

  /**
   * Run Python source and resolve when its result is back on the page.
   * @param {string} code
   * @returns {Promise<{ms: number, value: unknown}>} ms: inside the worker, runPython alone
   */
  run(code) {
    const id = this.nextId++;
    const done = new Promise((resolve) => this.pending.set(id, resolve));
    this.worker.postMessage({ type: "run", id, code });
    return /** @type {Promise<{ms: number, value: unknown}>} */ (done);
  }

  terminate() {
    this.worker.terminate();
  }
}

/**
 * Round trips of an ArrayBuffer of `bytes` to an echo worker and back, interleaved: `reps` moved
 * (the buffers `transferList` names) and `reps` structured-cloned, in milliseconds.
 * @param {number} bytes
 * @param {number} reps
 * @param {(buffer: ArrayBuffer) => Transferable[]} transferList
 */
export async function roundTrips(bytes, reps, transferList) {
  const worker = new Worker(new URL("./workers/echo-worker.js", import.meta.url), { type: "module" });
  let buffer = new Uint8Array(bytes).fill(7).buffer;
  /** @param {boolean} transfer @returns {Promise<number>} */
  const once = (transfer) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      worker.onmessage = (event) => {
        buffer = event.data.buffer; // touching data is what deserializes a clone
        resolve(performance.now() - t0);
      };
      worker.postMessage({ buffer, transfer }, transfer ? transferList(buffer) : []);
    });
  await once(true); // the worker's module has loaded once this returns
  /** @type {{transfer: number[], clone: number[]}} */
  const times = { transfer: [], clone: [] };
  for (let i = 0; i < reps; i++) {
    times.transfer.push(await once(true));
    times.clone.push(await once(false));
  }
  worker.terminate();
  return { ...times, bytes: buffer.byteLength };
}
