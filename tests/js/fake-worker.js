// The worker's side for the Node tests: the REAL dispatcher (worker/dispatcher.js) over a fake
// Python that runs scripted tasks instead of Pyodide, behind an in-memory endpoint pair. The pair
// keeps what makes a real worker tricky: messages arrive asynchronously and structured-cloned (so a
// function param throws DataCloneError, as in a browser), a terminated worker says nothing more;
// the fake Python keeps the rest: a task notices a cancel only by polling the interrupt buffer.

import { PYTHON_CANCEL, takeCancel } from "../../worker/cancel.js";
import { expose } from "../../worker/dispatcher.js";
import { ANSWER_OFFSET, InputSlot, InputState, Reply, Request } from "../../worker/protocol.js";

/** @typedef {import("../../worker/endpoint.js").Endpoint} Endpoint */
/** @typedef {import("../../worker/dispatcher.js").Interpreter} Interpreter */
/** @typedef {import("../../worker/endpoint.js").WorkerEndpoint} WorkerEndpoint */
/** @typedef {import("../../worker/protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("../../worker/protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("../../worker/protocol.js").TaskInfo} TaskInfo */
/** @typedef {import("../../worker/protocol.js").ParamInfo} ParamInfo */
/** @typedef {import("../../worker/python.js").Outcome} Outcome */

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
 * @property {(prompt: string) => Promise<string | null>} input  input(prompt): ask the page, then
 *   poll the input buffer (and the interrupt buffer) until it answers; null: no answer
 * @property {(message: string) => Promise<never>} crash  Pyodide itself fails (a `crashed` reply)
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
  ask: {
    info: { summary: "input(prompt), as a person's code calls it", returns: "object", params: [], defaults: {} },
    run: async ({ prompt = "?" }, io) => ({ answer: await io.input(prompt) }),
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
    run: async (_params, io) => io.crash("memory access out of bounds"),
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
 * The fake developer's functions, by dotted name; a module counts as given when the page's `init`
 * named a URL ending in "<module>.py". A URL with "missing" in it fails to load, as a 404 would.
 * @type {Record<string, (args: any[], kwargs: Record<string, any>, io: TaskIO) => Promise<unknown>>}
 */
export const FUNCTIONS = {
  "mymod.add": async ([a, b], { scale = 1 }) => (a + b) * scale,
  "mymod.count": async ([to], _kwargs, io) => TASKS.count.run({ to }, io),
  "mymod.reverse": async ([data]) => new Uint8Array(data).reverse(),
};

/**
 * How a fake worker behaves.
 * @typedef {object} FakeOptions
 * @property {number} [bootMs]  how long booting takes
 * @property {boolean} [bootFails]  fail the boot (`boot_failed` instead of `ready`)
 * @property {number} [tickMs]  how long one tick of a task takes
 * @property {boolean} [warms]  be the snapshot maker: warm up after `ready` until a request comes
 * @property {number} [busyAfterBootMs]  how long, after `ready`, the worker takes to get to the
 *   requests sent meanwhile (its thread busy, say storing the snapshot, or starved of CPU)
 */

/**
 * The fake Python: TASKS where offload.bridge has tasks, timers where Pyodide runs bytecode.
 * @implements {Interpreter}
 */
class FakePython {
  /**
   * @param {FakeWorker} worker  the worker it runs in (terminated or not; its script may die)
   * @param {Required<FakeOptions>} options
   */
  constructor(worker, { bootMs, bootFails, tickMs, warms }) {
    this.worker = worker;
    this.bootMs = bootMs;
    this.bootFails = bootFails;
    this.tickMs = tickMs;
    this.warms = warms;
    /** @type {Int32Array | null} */
    this.interruptBuffer = null;
    /** @type {Int32Array | null} */
    this.inputBuffer = null;
    /** @type {(prompt: string) => void} posts the `input` reply */
    this.ask = () => {};
    /** @type {string[]} the module names the page's `init` gave, in order */
    this.modules = [];
    /** @type {string[]} the wheel URLs it gave */
    this.packages = [];
  }

  /** @param {{modules: string[], packages: string[]}} code */
  async install({ modules, packages }) {
    for (const url of [...packages, ...modules]) {
      if (url.includes("missing")) {
        const error = new Error(`could not fetch module ${url}: HTTP 404 Not Found`);
        error.name = "UserCodeError";
        throw error;
      }
    }
    this.packages = packages;
    this.modules = modules.map((url) => url.split("/").pop()?.replace(/\.py$/, "") ?? url);
  }

  /**
   * What offload.bridge.call does, over FUNCTIONS.
   * @param {string} name
   * @param {unknown[]} args
   * @param {Record<string, unknown>} kwargs
   * @param {(done: number, total: number) => void} onProgress
   * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
   * @returns {Promise<Outcome>}
   */
  async call(name, args, kwargs, onProgress, onOutput) {
    const module = name.slice(0, name.lastIndexOf("."));
    if (!this.modules.includes(module)) return failed("MissingModuleError", `no module named '${module}'`);
    const fn = FUNCTIONS[name];
    if (!fn) return failed("MissingFunctionError", `module '${module}' has no function '${name}'`);
    return this.execute((io) => fn(args, kwargs, io), onProgress, onOutput);
  }

  async boot() {
    await sleep(this.bootMs);
    if (this.bootFails) throw new Error("pyodide.asm.wasm: 404");
    return {
      timings: { importRuntime: 0, loadRuntime: 0, loadWheel: 0 },
      boot: { source: /** @type {const} */ ("scratch"), madeSnapshot: this.warms, note: null },
      stored: Promise.resolve(),
    };
  }

  tasks() {
    return Object.keys(TASKS).map(taskInfo);
  }

  versions() {
    return { python: "3.14.2", pyodide: "fake" };
  }

  /** @param {{interruptBuffer: Int32Array | null, inputBuffer: Int32Array | null, ask: (prompt: string) => void}} shared */
  attach({ interruptBuffer, inputBuffer, ask }) {
    this.interruptBuffer = interruptBuffer;
    this.inputBuffer = inputBuffer;
    this.ask = ask;
  }

  /**
   * input() the way worker/console.js does it, but polling: the real worker blocks in
   * Atomics.wait, which Node's main thread (the page's, here) may not.
   * @param {() => Promise<void>} tick
   * @param {string} prompt
   * @returns {Promise<string | null>}
   */
  async input(tick, prompt) {
    const input = this.inputBuffer;
    if (!input) throw new FakePythonError("EOFError", "not isolated");
    Atomics.store(input, InputSlot.STATE, InputState.WAITING);
    this.ask(prompt);
    for (;;) {
      await tick();
      const state = Atomics.load(input, InputSlot.STATE);
      if (state === InputState.NO_ANSWER) return null;
      if (state === InputState.ANSWERED) {
        const length = Atomics.load(input, InputSlot.LENGTH);
        return new TextDecoder().decode(new Uint8Array(input.buffer, ANSWER_OFFSET, length).slice());
      }
    }
  }

  async installImports() {}

  /** @returns {{plan: [string, Record<string, unknown>][], of: number}} */
  warmupPlan() {
    return { plan: [["count", { to: 1 }]], of: 200 };
  }

  /**
   * What offload.bridge.run does: every Python exception becomes an outcome, KeyboardInterrupt
   * included; a throw is Pyodide failing.
   * @param {string} task
   * @param {Record<string, any>} params
   * @param {(done: number, total: number) => void} onProgress
   * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
   * @returns {Promise<Outcome>}
   */
  async run(task, params, onProgress, onOutput) {
    const script = TASKS[task];
    if (!script) return failed("UnknownTaskError", `unknown task ${task}`);
    return this.execute((io) => script.run(params, io), onProgress, onOutput);
  }

  /**
   * Run `work` as Python would, every exception an outcome.
   * @param {(io: TaskIO) => Promise<unknown>} work
   * @param {(done: number, total: number) => void} onProgress
   * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
   * @returns {Promise<Outcome>}
   */
  async execute(work, onProgress, onOutput) {
    /** @type {TaskIO} */
    const io = {
      progress: onProgress,
      print: (text) => onOutput("stdout", text),
      tick: async (ms = this.tickMs) => {
        await sleep(ms);
        if (this.worker.terminated) await never(); // a terminated worker runs nothing more
        if (takeCancel(this.interruptBuffer)) throw new Interrupted(); // Pyodide clears it too
      },
      block: never,
      input: (prompt) => this.input(() => io.tick(), prompt),
      crash: async (message) => {
        const error = new Error(message);
        error.name = "RuntimeError";
        throw error;
      },
      die: async (message) => {
        setTimeout(() => this.worker.dispatch("error", { message, preventDefault: () => {} }), 0);
        return never();
      },
    };
    try {
      return { ok: true, value: await work(io) };
    } catch (error) {
      if (error instanceof Interrupted) return failed(PYTHON_CANCEL, "");
      if (error instanceof FakePythonError) return failed(error.type, error.message);
      throw error;
    }
  }
}

/**
 * @param {string} name
 * @param {string} message
 * @returns {Outcome}
 */
const failed = (name, message) => ({ ok: false, name, message, traceback: "" });

/**
 * The page's end of an endpoint pair whose other end is served by the real dispatcher over a
 * FakePython.
 * @implements {Endpoint}
 */
export class FakeWorker {
  /** @param {FakeOptions} [options] */
  constructor({ bootMs = 1, bootFails = false, tickMs = 1, warms = false, busyAfterBootMs = 0 } = {}) {
    /** @type {WorkerRequest[]} every request received, in order (after the structured clone) */
    this.received = [];
    /** @type {Transferable[][]} the transfer list of every request */
    this.transfers = [];
    /** @type {string[]} the tasks of the run requests this worker got to, in order */
    this.started = [];
    this.terminated = false;
    /** @type {Map<string, ((event: any) => void)[]>} the page's listeners */
    this.listeners = new Map();
    /** @type {((event: {data: WorkerRequest}) => void)[]} the dispatcher's listener */
    this.workerListeners = [];
    this.busyAfterBootMs = busyAfterBootMs;
    /** @type {Promise<unknown>} requests reach the worker in order, each after the one before */
    this.inbox = Promise.resolve();
    /** @type {Promise<unknown>} settles when the worker's thread gets to its messages */
    this.busy = Promise.resolve();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.busyTimer = undefined;
    /** @type {WorkerEndpoint} the worker's end: what the worker's global scope is to worker.js */
    const scope = {
      postMessage: (reply, transfer) => this.reply(reply, transfer),
      addEventListener: (_type, listener) => this.workerListeners.push(listener),
    };
    this.python = new FakePython(this, { bootMs, bootFails, tickMs, warms, busyAfterBootMs });
    this.dispatcher = expose(this.python, scope, {
      capabilities: { crossOriginIsolated: false, sharedArrayBuffer: true, hardwareConcurrency: 2, interrupts: true },
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
    this.transfers.push(transfer);
    this.inbox = this.inbox
      .then(() => this.busy)
      .then(() => sleep(0))
      .then(() => {
        if (this.terminated) return;
        if (request.type === Request.RUN) this.started.push(request.task);
        for (const listener of this.workerListeners) listener({ data: request });
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
    clearTimeout(this.busyTimer); // a terminated worker's thread gets to nothing more
  }

  /**
   * The dispatcher's reply, delivered to the page asynchronously, unless the worker was terminated.
   * @param {WorkerReply} reply
   * @param {Transferable[]} [transfer]
   */
  reply(reply, transfer = []) {
    const data = structuredClone(reply, { transfer });
    if (reply.type === Reply.READY && this.busyAfterBootMs > 0 && !this.terminated) {
      this.busy = new Promise((resolve) => {
        this.busyTimer = setTimeout(resolve, this.busyAfterBootMs);
      });
    }
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
