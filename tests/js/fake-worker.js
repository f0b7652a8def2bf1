// A fake of worker/worker.js for the Node tests: an Endpoint (worker/endpoint.js) that plays the
// worker's side of the protocol with scripted tasks instead of Pyodide. It keeps what makes the
// real one tricky: replies arrive asynchronously, requests posted during boot wait for it,
// postMessage structured-clones (so a function param throws DataCloneError, as in a browser), one
// task runs at a time, and a task notices a cancel only by polling the interrupt buffer.

import { Reply, Request, SIGINT } from "../../worker/protocol.js";

/** @typedef {import("../../worker/endpoint.js").Endpoint} Endpoint */
/** @typedef {import("../../worker/protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("../../worker/protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("../../worker/protocol.js").TaskInfo} TaskInfo */
/** @typedef {import("../../worker/protocol.js").ParamInfo} ParamInfo */

/** What a fake task raises to end as a Python exception (an `error` reply). */
export class FakePythonError extends Error {
  /** @param {string} type  the Python exception type @param {string} message */
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

/** Thrown inside a fake task when it notices SIGINT: the fake's KeyboardInterrupt. */
class Interrupted extends Error {}

/**
 * What a fake task can do, the way a Python task uses its TaskContext.
 * @typedef {object} TaskIO
 * @property {(done: number, total: number) => void} progress
 * @property {(text: string) => void} print
 * @property {(ms?: number) => Promise<void>} tick  let time pass, like Python running bytecode;
 *   raises the fake KeyboardInterrupt if the page stored SIGINT meanwhile
 * @property {() => Promise<never>} block  run on and never poll: a blocking C call, time.sleep
 * @property {(message: string) => Promise<never>} crash  the `crashed` reply: Pyodide failed
 * @property {(message: string) => Promise<never>} die  the worker's script itself dies: an error event
 */

/** @typedef {(params: Record<string, any>, io: TaskIO) => Promise<unknown>} FakeTask */

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A promise that never settles: a task stuck where nothing polls. @returns {Promise<never>} */
const never = () => new Promise(() => {});

/**
 * @param {string} name
 * @param {Partial<ParamInfo>} fields
 * @returns {ParamInfo}
 */
const param = (name, fields) => ({
  name,
  kind: "integer",
  description: name,
  default: null,
  required: true,
  ...fields,
});

/**
 * The fake tasks, each with the schema the real worker would report for it.
 * @type {Record<string, {info: Omit<TaskInfo, "name" | "label" | "help" | "work">, run: FakeTask}>}
 */
export const TASKS = {
  echo: {
    info: { summary: "return its params", returns: "object", params: [], defaults: {} },
    run: async (params) => params,
  },
  count: {
    info: {
      summary: "count to `to`, one tick per step, reporting progress; honours cancel",
      returns: "object",
      params: [param("to", { minimum: 0, maximum: 10_000 })],
      defaults: { to: 5 },
    },
    run: async ({ to }, io) => {
      for (let step = 1; step <= to; step += 1) {
        await io.tick();
        io.progress(step, to);
      }
      io.print(`counted to ${to}\n`);
      return { counted: to };
    },
  },
  block: {
    info: { summary: "never ends and never polls", returns: "object", params: [], defaults: {} },
    run: async (_params, io) => io.block(),
  },
  fail: {
    info: { summary: "raise ValueError", returns: "object", params: [], defaults: {} },
    run: async () => {
      throw new FakePythonError("ValueError", "bad value");
    },
  },
  crash: {
    info: { summary: "crash Pyodide", returns: "object", params: [], defaults: {} },
    run: async (_params, io) => io.crash("Python crashed: RuntimeError: memory access out of bounds"),
  },
  die: {
    info: { summary: "kill the worker's script", returns: "object", params: [], defaults: {} },
    run: async (_params, io) => io.die("Uncaught RangeError: out of memory"),
  },
  rows: {
    info: {
      summary: "one byte per row, the row's number, for rows [start, stop) of `height`",
      returns: "bytes",
      params: [
        param("height", { minimum: 1, maximum: 1000, default: 10, required: false }),
        param("rows", { kind: "range", required: false, bound: "height" }),
      ],
      defaults: { height: 10 },
    },
    // `failAt` (not in the schema: a test's switch) makes the part holding that row fail at once.
    run: async ({ height = 10, rows, failAt }, io) => {
      if (!Number.isInteger(height)) {
        throw new FakePythonError("ParameterError", `rows: height must be an integer, got ${height}`);
      }
      const [start, stop] = rows ?? [0, height];
      if (start <= failAt && failAt < stop) throw new FakePythonError("ValueError", `row ${failAt}`);
      const bytes = new Uint8Array(stop - start);
      for (let row = start; row < stop; row += 1) {
        await io.tick();
        bytes[row - start] = row % 256;
        io.progress(row + 1 - start, stop - start);
      }
      return bytes;
    },
  },
  sum: {
    info: {
      summary: "the sum of the integers [start, stop) of `n`",
      returns: "object",
      params: [
        param("n", { minimum: 1, maximum: 1000 }),
        param("items", { kind: "range", required: false, bound: "n" }),
      ],
      defaults: { n: 10 },
    },
    run: async ({ n, items }) => {
      const [start, stop] = items ?? [0, n];
      let total = 0;
      for (let i = start; i < stop; i += 1) total += i;
      return { sum: total, start, stop };
    },
  },
};

/**
 * How a fake worker behaves.
 * @typedef {object} FakeOptions
 * @property {number} [bootMs]  how long booting takes
 * @property {boolean} [bootFails]  send `boot_failed` instead of `ready`
 * @property {number} [tickMs]  how long one tick of a task takes
 * @property {boolean} [warms]  be the snapshot maker: send a `warmed` reply right after `ready`
 * @property {number} [busyAfterBootMs]  how long, after `ready`, the worker takes to get to the
 *   requests sent meanwhile (its thread busy, say storing the snapshot, or starved of CPU)
 */

/** @implements {Endpoint} */
export class FakeWorker {
  /** @param {FakeOptions} [options] */
  constructor({ bootMs = 1, bootFails = false, tickMs = 1, warms = false, busyAfterBootMs = 0 } = {}) {
    this.tickMs = tickMs;
    /** @type {WorkerRequest[]} every request received, in order (after the structured clone) */
    this.received = [];
    /** @type {string[]} the tasks this worker started, in order */
    this.started = [];
    this.terminated = false;
    /** @type {Int32Array | null} */
    this.interruptBuffer = null;
    /** @type {Int32Array | null} */
    this.startedBuffer = null;
    /** @type {Map<string, ((event: any) => void)[]>} */
    this.listeners = new Map();
    // Requests wait for the boot, then run one at a time, like worker.js's `await ready`.
    /** @type {Promise<boolean>} */
    this.booted = sleep(bootMs).then(() => {
      if (bootFails) {
        this.reply({ type: Reply.BOOT_FAILED, name: "Error", message: "pyodide.asm.wasm: 404" });
        return false;
      }
      this.reply({
        type: Reply.READY,
        python: "3.14.2",
        pyodide: "fake",
        timings: { importRuntime: 0, loadRuntime: 0, loadWheel: 0, total: bootMs },
        boot: { source: "scratch", madeSnapshot: false, note: null },
        capabilities: {
          crossOriginIsolated: false,
          sharedArrayBuffer: true,
          hardwareConcurrency: 2,
          interrupts: true,
        },
        tasks: Object.keys(TASKS).map(taskInfo),
      });
      if (warms) this.reply({ type: Reply.WARMED, steps: 3, of: 200, ms: 12, stoppedBy: "request" });
      return true;
    });
    /** @type {Promise<boolean>} */
    this.queue = this.booted.then(async (booted) => {
      if (booted && busyAfterBootMs > 0) await sleep(busyAfterBootMs);
      return booted;
    });
  }

  /**
   * @param {WorkerRequest} message
   * @param {Transferable[]} transfer
   */
  postMessage(message, transfer) {
    // Throws DataCloneError for a function, exactly where a browser's postMessage would.
    const request = structuredClone(message, { transfer });
    if (this.terminated) return;
    this.received.push(request);
    this.queue = this.queue.then(async (booted) => {
      if (booted) await this.serve(request);
      return booted;
    });
  }

  /**
   * @param {"message" | "error"} type
   * @param {(event: any) => void} listener
   */
  addEventListener(type, listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  terminate() {
    this.terminated = true;
  }

  // --- the worker's side ----------------------------------------------------------------------

  /**
   * Deliver a reply to the page, asynchronously, unless the worker was terminated.
   * @param {WorkerReply} reply
   * @param {Transferable[]} [transfer]
   */
  reply(reply, transfer = []) {
    const data = structuredClone(reply, { transfer });
    setTimeout(() => this.dispatch("message", { data }), 0);
  }

  /**
   * @param {string} type
   * @param {object} event
   */
  dispatch(type, event) {
    if (this.terminated) return;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** @param {WorkerRequest} request */
  async serve(request) {
    switch (request.type) {
      case Request.INIT:
        this.interruptBuffer = request.interruptBuffer;
        this.startedBuffer = request.startedBuffer;
        return;
      case Request.RUN:
        return this.runTask(request);
      default:
        throw new Error(`Unsupported request ${JSON.stringify(request)}`);
    }
  }

  /** @param {import("../../worker/protocol.js").RunRequest} request */
  async runTask({ id, task, params }) {
    this.started.push(task);
    if (this.startedBuffer) Atomics.store(this.startedBuffer, 0, id); // as worker.js does
    const script = TASKS[task];
    if (!script) {
      this.reply({ type: Reply.ERROR, id, name: "UnknownTaskError", message: `unknown task ${task}` });
      return;
    }
    /** @type {TaskIO} */
    const io = {
      progress: (done, total) => this.reply({ type: Reply.PROGRESS, id, done, total }),
      print: (text) => this.reply({ type: Reply.STDOUT, id, stream: "stdout", text }),
      tick: async (ms = this.tickMs) => {
        await sleep(ms);
        if (this.terminated) await never(); // a terminated worker runs nothing more
        if (this.interruptBuffer && Atomics.load(this.interruptBuffer, 0) === SIGINT) {
          Atomics.store(this.interruptBuffer, 0, 0); // Pyodide clears it when it raises
          throw new Interrupted();
        }
      },
      block: never,
      crash: async (message) => {
        this.reply({ type: Reply.CRASHED, id, message });
        return never();
      },
      die: async (message) => {
        setTimeout(() => this.dispatch("error", { message, preventDefault: () => {} }), 0);
        return never();
      },
    };
    try {
      const value = await script.run(params, io);
      if (value instanceof Uint8Array) {
        this.reply({ type: Reply.RESULT, id, value: value.buffer }, [value.buffer]);
      } else {
        this.reply({ type: Reply.RESULT, id, value });
      }
    } catch (error) {
      if (error instanceof Interrupted) {
        this.reply({ type: Reply.CANCELLED, id });
      } else if (error instanceof FakePythonError) {
        this.reply({ type: Reply.ERROR, id, name: error.type, message: error.message, traceback: "" });
      } else {
        throw error;
      }
    }
  }
}

/**
 * An endpoint factory for PythonWorker/WorkerPool that keeps every fake it made, in order (a
 * replaced worker is the next one).
 * @param {FakeOptions | ((index: number) => FakeOptions)} [options]  the same for every fake, or
 *   per fake by its index
 */
export function fakeWorkers(options = {}) {
  /** @type {FakeWorker[]} */
  const made = [];
  const endpoint = () => {
    const fake = new FakeWorker(typeof options === "function" ? options(made.length) : options);
    made.push(fake);
    return fake;
  };
  return { endpoint, made };
}

/**
 * The error `promise` rejects with; a promise that resolves instead fails the test.
 * @param {Promise<unknown>} promise
 * @returns {Promise<Error>}
 */
export async function rejection(promise) {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`, { cause: "resolved" });
  } catch (error) {
    if (error instanceof Error && error.cause === "resolved") throw error;
    return /** @type {Error} */ (error);
  }
}

/**
 * Resolve once `condition()` holds (polled each millisecond): tests wait on a state, not on a
 * guess of how long something takes on a busy machine.
 * @param {() => boolean} condition
 */
export async function until(condition) {
  while (!condition()) await sleep(1);
}

/**
 * A fake task's schema as the worker reports it in `ready`.
 * @param {string} name
 * @returns {TaskInfo}
 */
export function taskInfo(name) {
  return { name, label: name, help: "", work: [], ...TASKS[name].info };
}
