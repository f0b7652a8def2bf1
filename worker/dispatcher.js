// The worker's side of the page <-> worker protocol (protocol.js): `expose(interpreter, endpoint)`
// answers the requests that come through `endpoint` by running tasks on `interpreter`, the twin of
// PythonWorker on the page (Comlink's expose and wrap). worker.js binds it to the worker's global
// scope and the real Pyodide (interpreter.js); the Node tests bind it to one end of an endpoint
// pair and a fake Python (tests/js/fake-worker.js). It uses no browser global of its own.
//
// One task runs at a time, synchronously for most: while Python runs, the worker's event loop does
// not, which is why cancel goes through shared memory (cancel.js) and not a message.

import { handOnCancel, isCancel, takeCancel } from "./cancel.js";
import { Reply, Request } from "./protocol.js";

/** @typedef {import("./protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("./protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("./protocol.js").RunRequest} RunRequest */
/** @typedef {import("./protocol.js").CallRequest} CallRequest */
/** @typedef {import("./protocol.js").InitRequest} InitRequest */
/** @typedef {import("./protocol.js").TaskInfo} TaskInfo */
/** @typedef {import("./protocol.js").Capabilities} Capabilities */
/** @typedef {import("./python.js").Outcome} Outcome */
/** @typedef {import("./python.js").Phases} Phases */

/** @typedef {import("./endpoint.js").WorkerEndpoint} WorkerEndpoint */

/**
 * What the dispatcher needs of Python: interpreter.js makes it of Pyodide, the tests of scripts.
 * @typedef {object} Interpreter
 * @property {() => Promise<{timings: Phases, boot: import("./protocol.js").BootInfo,
 *   stored: Promise<void>}>} boot  load Python (`stored`: the snapshot this boot made, being kept)
 * @property {() => TaskInfo[]} tasks  the schema of every task
 * @property {() => {python: string, pyodide: string}} versions
 * @property {(task: string, params: Record<string, unknown>,
 *   onProgress: (done: number, total: number) => void,
 *   onOutput: (stream: "stdout" | "stderr", text: string) => void,
 *   awaits: boolean) => Outcome | Promise<Outcome>} run  one task through offload.bridge; a throw
 *   is Python itself failing
 * @property {(code: string, onNote: (text: string) => void) => Promise<void>} installImports  the
 *   wheelhouse packages `code` imports
 * @property {(code: {modules: string[], packages: string[]}) => Promise<void>} install  the
 *   developer's modules and wheels (InitRequest); throws an Error named "UserCodeError" naming
 *   the URL that did not load
 * @property {(name: string, args: unknown[], kwargs: Record<string, unknown>,
 *   onProgress: (done: number, total: number) => void,
 *   onOutput: (stream: "stdout" | "stderr", text: string) => void) => Outcome | Promise<Outcome>} call  one of the
 *   developer's functions through offload.bridge.call; a throw is Python itself failing
 * @property {(shared: {interruptBuffer: Int32Array | null, inputBuffer: Int32Array | null,
 *   ask: (prompt: string) => void}) => void} attach  hand Python the page's shared buffers:
 *   interrupts, and input() for a person's code
 * @property {() => {plan: [string, Record<string, unknown>][], of: number}} warmupPlan  the
 *   warm-up's steps (py/offload/warmup.py), run `of` times over in all
 */

/**
 * What the worker's global scope tells the dispatcher.
 * @typedef {object} DispatcherOptions
 * @property {Capabilities} capabilities  for the `ready` reply
 * @property {number} [startedAt]  performance.now() when the worker script began (`total`)
 */

/**
 * Serve the page <-> worker protocol on `endpoint` with `interpreter`; booting starts at once.
 * Call it before the worker script's first await: messages posted during the boot then wait for
 * it instead of being lost, and are handled in the order they came.
 * @param {Interpreter} interpreter
 * @param {WorkerEndpoint} endpoint
 * @param {DispatcherOptions} options
 * @returns {Dispatcher}
 */
export function expose(interpreter, endpoint, options) {
  const dispatcher = new Dispatcher(interpreter, endpoint, options);
  endpoint.addEventListener("message", (event) => dispatcher.handle(event.data));
  return dispatcher;
}

export class Dispatcher {
  /**
   * @param {Interpreter} interpreter
   * @param {WorkerEndpoint} endpoint
   * @param {DispatcherOptions} options
   */
  constructor(interpreter, endpoint, { capabilities, startedAt = performance.now() }) {
    this.interpreter = interpreter;
    this.endpoint = endpoint;
    this.capabilities = capabilities;
    this.startedAt = startedAt;
    /** Set by the first request after `ready`: the warm-up stops before its next step. */
    this.requested = false;
    /** The id of the run in progress, for the `input` replies its code's input() sends. */
    this.runningId = 0;
    /** @type {number | null} the run going through Pyodide's event loop (see `unhandled`) */
    this.awaitingRun = null;
    /** @type {Int32Array | null} the page's interrupt buffer (from `init`; null without isolation) */
    this.interruptBuffer = null;
    /** @type {Int32Array | null} where each run's id goes as it begins (InitRequest; null likewise) */
    this.startedBuffer = null;
    /** @type {Set<string>} tasks that may await (their schema says `awaits`) */
    this.awaitingTasks = new Set();
    /** @type {(request: InitRequest) => void} */
    let receiveInit = () => {};
    /** @type {Promise<InitRequest>} the page's `init`, which the boot waits for (the user's code) */
    this.init = new Promise((resolve) => {
      receiveInit = resolve;
    });
    this.receiveInit = receiveInit;
    /** @type {Promise<boolean>} whether the boot succeeded (after a failure the page has `boot_failed`) */
    this.ready = this.boot().then(
      () => true,
      (/** @type {unknown} */ error) => {
        const { name, message } = error instanceof Error ? error : new Error(String(error));
        this.post({ type: Reply.BOOT_FAILED, name, message });
        return false;
      },
    );
  }

  /**
   * Post a reply; the only place the worker side posts.
   * @param {WorkerReply} reply
   * @param {Transferable[]} [transfer]
   */
  post(reply, transfer = []) {
    this.endpoint.postMessage(reply, transfer);
  }

  /**
   * Load Python, take the page's `init` (its shared buffers, then its own modules and packages,
   * loaded after any snapshot restore so that they are never part of the shared snapshot), then
   * announce `ready` with what booting took.
   */
  async boot() {
    const { timings, boot, stored } = await this.interpreter.boot();
    const init = await this.init;
    this.attach(init);
    const modules = init.modules ?? [];
    const packages = init.packages ?? [];
    /** @type {{loadUserCode?: number}} */
    const userCode = {};
    if (modules.length > 0 || packages.length > 0) {
      const started = performance.now();
      await this.interpreter.install({ modules, packages });
      userCode.loadUserCode = performance.now() - started;
    }
    const total = performance.now() - this.startedAt;
    const tasks = this.interpreter.tasks();
    this.awaitingTasks = new Set(tasks.filter((task) => task.awaits).map((task) => task.name));
    this.post({
      type: Reply.READY,
      ...this.interpreter.versions(),
      timings: { ...timings, ...userCode, total },
      boot,
      capabilities: this.capabilities,
      tasks,
    });
    // Storing a snapshot this boot made happens after `ready`; if it fails, the next boot says why.
    stored.catch((/** @type {unknown} */ error) => console.warn("offload: snapshot not stored:", error));
    if (boot.madeSnapshot) this.warmUp();
  }

  /**
   * Handle one request, in the order they came (each waits for the boot).
   * @param {WorkerRequest} request
   */
  async handle(request) {
    // The boot waits for `init`: it must not wait for the boot in turn.
    if (request.type === Request.INIT) {
      this.receiveInit(request);
      return;
    }
    if (request.type === Request.RUN || request.type === Request.CALL) this.requested = true;
    if (!(await this.ready)) return;
    switch (request.type) {
      case Request.RUN:
        await this.runTask(request);
        break;
      case Request.CALL:
        await this.runCall(request);
        break;
      default:
        this.post({
          type: Reply.ERROR,
          id: /** @type {{id?: number}} */ (request).id ?? null,
          name: "ProtocolError",
          message: `Unsupported request type ${JSON.stringify(/** @type {any} */ (request).type)}`,
        });
    }
  }

  /**
   * Hand Python the page's shared buffers. Without isolation the page sends nulls: cancel falls
   * back to terminate + restart, and input() says why it cannot ask.
   * @param {InitRequest} request
   */
  attach(request) {
    this.interruptBuffer = request.interruptBuffer;
    this.startedBuffer = request.startedBuffer;
    this.interpreter.attach({
      interruptBuffer: request.interruptBuffer,
      inputBuffer: request.inputBuffer,
      ask: (prompt) => this.post({ type: Reply.INPUT, id: this.runningId, prompt }),
    });
  }

  /**
   * Call one of the developer's functions and post what came of it, as a run's.
   * @param {CallRequest} request
   */
  runCall({ id, function: name, args, kwargs }) {
    return this.perform(id, (onProgress, onOutput) => this.interpreter.call(name, args, kwargs, onProgress, onOutput));
  }

  /**
   * Run one task and post what came of it. A task that awaits (run_code) first gets the
   * wheelhouse packages its code imports, then runs through Pyodide's event loop.
   * @param {RunRequest} request
   */
  runTask({ id, task, params }) {
    return this.perform(id, async (onProgress, onOutput) => {
      if (!this.awaitingTasks.has(task)) {
        return this.interpreter.run(task, params, onProgress, onOutput, false);
      }
      if (typeof params.code === "string") {
        await this.interpreter.installImports(params.code, (text) => onOutput("stderr", text));
      }
      // Checked again before Pyodide's event loop starts the run: an interrupt that lands in the
      // loop's own code, outside offload.bridge, would be lost and the run left to the grace timer.
      if (takeCancel(this.interruptBuffer)) return null;
      this.awaitingRun = id;
      try {
        return await this.interpreter.run(task, params, onProgress, onOutput, true);
      } finally {
        this.awaitingRun = null;
      }
    });
  }

  /**
   * Run job `id` (a run or a call) and post its final reply. `work` gets the job's progress and
   * output callbacks and returns its outcome, or null for a cancel it took itself.
   * @param {number} id
   * @param {(onProgress: (done: number, total: number) => void,
   *   onOutput: (stream: "stdout" | "stderr", text: string) => void) =>
   *   Outcome | null | Promise<Outcome | null>} work
   */
  async perform(id, work) {
    this.runningId = id;
    if (this.startedBuffer) Atomics.store(this.startedBuffer, 0, id);
    /** @type {Outcome | null} */
    let outcome;
    try {
      outcome = takeCancel(this.interruptBuffer)
        ? null
        : await work(
            (done, total) => this.post({ type: Reply.PROGRESS, id, done, total }),
            (stream, text) => this.post({ type: Reply.STDOUT, id, stream, text }),
          );
    } catch (error) {
      // A cancel that landed in Python outside offload.bridge (installImports looks for imports in
      // Python): the interpreter is fine and the job is cancelled. Without this the interrupt would
      // be spent there and the code's sleep would wait until the client replaced the worker.
      if (isCancel(error)) {
        outcome = null;
      } else {
        // Pyodide itself failed (a wasm trap, memory exhausted, a fatal error): this interpreter
        // cannot be trusted again.
        this.post({ type: Reply.CRASHED, id, message: `Python crashed: ${describe(error)}` });
        return;
      }
    }
    if (outcome === null) this.post({ type: Reply.CANCELLED, id });
    else this.postOutcome(id, outcome);
  }

  /**
   * The final reply for run `id`.
   * @param {number} id
   * @param {Outcome} outcome
   */
  postOutcome(id, outcome) {
    if (!outcome.ok && isCancel(outcome)) {
      this.post({ type: Reply.CANCELLED, id });
    } else if (!outcome.ok) {
      this.post({
        type: Reply.ERROR,
        id,
        name: outcome.name ?? "Error",
        message: outcome.message ?? "",
        traceback: outcome.traceback,
      });
    } else if (outcome.value instanceof Uint8Array) {
      // toJs copied the bytes out of the wasm heap into a fresh buffer: hand it over, no 2nd copy.
      const view = outcome.value;
      const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
      const buffer = whole ? view.buffer : view.slice().buffer;
      this.post({ type: Reply.RESULT, id, value: buffer }, [buffer]);
    } else {
      this.post({ type: Reply.RESULT, id, value: outcome.value });
    }
  }

  /**
   * A promise nobody awaits was rejected. A task that awaits runs in callbacks of Pyodide's event
   * loop: a fatal error there (a wasm trap, memory exhausted) rejects such a promise instead of
   * throwing into runTask, and the run would never end. Report it as the crash it is; the client
   * replaces this worker. A cancel reaching such a promise is no crash: the run itself reports
   * the cancel (or, if it never ends, the page's grace timer replaces this worker).
   * @param {unknown} reason
   * @returns {boolean} whether it was this run's (the caller then keeps it out of the console)
   */
  unhandled(reason) {
    if (this.awaitingRun === null) return false;
    if (isCancel(reason)) return true;
    this.post({ type: Reply.CRASHED, id: this.awaitingRun, message: `Python crashed: ${describe(reason)}` });
    this.awaitingRun = null;
    return true;
  }

  /**
   * The snapshot maker's warm-up (py/offload/warmup.py says why): small runs of the tasks, one step
   * per turn of the event loop, so a request that arrives meanwhile is handled before the next
   * step; the first request ends it. Each step goes the way a real run goes (params converted to
   * Python, callbacks into JavaScript, the result converted back), because those paths are
   * compiled code V8 should cache too. Never fails the worker: a failing step ends the warm-up.
   */
  async warmUp() {
    const started = performance.now();
    const { plan, of } = this.interpreter.warmupPlan();
    const ignore = () => {};
    const turns = new Turns();
    let steps = 0;
    try {
      for (; steps < of; steps++) {
        await turns.next();
        if (this.requested) break;
        const [task, params] = plan[steps % plan.length];
        // Bytes travel as an ArrayBuffer, as the page sends them (a fresh one: a run keeps none).
        const sent = Object.fromEntries(
          Object.entries(params).map(([k, v]) => [k, v instanceof Uint8Array ? v.slice().buffer : v]),
        );
        const outcome = await this.interpreter.run(task, sent, ignore, ignore, false);
        if (!outcome.ok) {
          if (isCancel(outcome)) handOnCancel(this.interruptBuffer);
          else console.warn("offload: warm-up stopped:", outcome.name, outcome.message);
          break;
        }
      }
    } catch (error) {
      console.warn("offload: warm-up stopped:", error);
    } finally {
      turns.close();
    }
    const stoppedBy = steps < of ? "request" : "done";
    this.post({ type: Reply.WARMED, steps, of, ms: performance.now() - started, stoppedBy });
  }
}

/**
 * Later turns of the event loop, each after the messages already queued. A message to ourselves is
 * a task queued behind the page's messages that came meanwhile, without the 4 ms a nested
 * setTimeout(0) waits: the warm-up yields to every request and idles little.
 */
class Turns {
  constructor() {
    this.channel = new MessageChannel();
    /** @type {(() => void)[]} */
    this.waiting = [];
    this.channel.port1.onmessage = () => this.waiting.shift()?.();
  }

  /** @returns {Promise<void>} */
  next() {
    return new Promise((resolve) => {
      this.waiting.push(() => resolve(undefined));
      this.channel.port2.postMessage(null);
    });
  }

  close() {
    this.channel.port1.close();
  }
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
