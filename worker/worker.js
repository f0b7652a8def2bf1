// The dedicated module worker: boots Pyodide from this site's own files, loads the offload wheel
// by name, then runs Python tasks on request and posts progress, output, results and errors back.
// It runs one task at a time, synchronously: while Python runs, this worker's event loop does not,
// which is why cancel goes through shared memory (the interrupt buffer) and not a message.
// Started by endpoint.js as `new Worker(new URL("./worker.js", import.meta.url), {type: "module"})`.

import { Reply, Request, SIGINT } from "./protocol.js";
import { installConsole, installImports, loadPython, runBridge, runBridgeAsync, toPlain } from "./python.js";

/** @typedef {import("./protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("./protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("./python.js").Python} Python */
/** @typedef {import("./python.js").Outcome} Outcome */

const scope = /** @type {DedicatedWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const startedAt = performance.now();
// SharedArrayBuffer exists only in cross-origin isolated pages (COOP + COEP headers).
const interruptsPossible = scope.crossOriginIsolated && typeof SharedArrayBuffer === "function";

/**
 * Post a reply; the only place this worker calls postMessage.
 * @param {WorkerReply} reply
 * @param {Transferable[]} [transfer]
 */
function post(reply, transfer = []) {
  scope.postMessage(reply, transfer);
}

/** Load Pyodide and the offload wheel, then announce `ready` with what booting took. */
async function boot() {
  // From this build's memory snapshot when there is a valid one (worker/snapshot.js).
  const { python, timings, boot, stored } = await loadPython({ snapshot: true });
  const total = performance.now() - startedAt;
  const tasksProxy = python.bridge.tasks();
  /** @type {import("./protocol.js").TaskInfo[]} */
  const tasks = toPlain(tasksProxy);
  tasksProxy.destroy();
  awaitingTasks = new Set(tasks.filter((task) => task.awaits).map((task) => task.name));
  const { pyodide } = python;
  post({
    type: Reply.READY,
    python: pyodide.runPython("import sys; sys.version.split()[0]"),
    pyodide: pyodide.version,
    timings: { ...timings, total },
    boot,
    capabilities: {
      crossOriginIsolated: scope.crossOriginIsolated,
      sharedArrayBuffer: typeof SharedArrayBuffer === "function",
      hardwareConcurrency: navigator.hardwareConcurrency,
      interrupts: interruptsPossible,
    },
    tasks,
  });
  // Storing a snapshot this boot made happens after `ready`; if it fails, the next boot says why.
  stored.catch((/** @type {unknown} */ error) => console.warn("offload: snapshot not stored:", error));
  if (boot.madeSnapshot) warmUp(python);
  return python;
}

/** Set by the first request after `ready`: the warm-up stops before its next step. */
let requested = false;

/**
 * The snapshot maker's warm-up (py/offload/warmup.py says why): small runs of the tasks, one step
 * per turn of this worker's event loop, so a request that arrives meanwhile is handled before the
 * next step; the first request ends it. Each step goes the way a real run goes (runBridge: params
 * converted to Python, progress and output callbacks into JavaScript, the result converted back),
 * because those paths are compiled code V8 should cache too. Never fails the worker: a failing
 * step ends the warm-up.
 * @param {Python} python
 */
async function warmUp(python) {
  const started = performance.now();
  const warmup = python.pyodide.pyimport("offload.warmup");
  /** @type {[string, Record<string, unknown>][]} */
  let plan = [];
  let of = 0;
  try {
    const planProxy = warmup.plan();
    plan = toPlain(planProxy);
    planProxy.destroy();
    of = warmup.count(); // offload.warmup owns how many steps a warm-up has
  } finally {
    warmup.destroy();
  }
  const ignore = () => {};
  let steps = 0;
  try {
    for (; steps < of; steps++) {
      await nextTurn();
      if (requested) break;
      const [task, params] = plan[steps % plan.length];
      // Bytes travel as an ArrayBuffer, as the page sends them (a fresh one: runBridge keeps none).
      const sent = Object.fromEntries(
        Object.entries(params).map(([k, v]) => [k, v instanceof Uint8Array ? v.slice().buffer : v]),
      );
      const outcome = runBridge(python, task, sent, ignore, ignore);
      if (!outcome.ok) {
        if (outcome.name === "KeyboardInterrupt") handOnCancel();
        else console.warn("offload: warm-up stopped:", outcome.name, outcome.message);
        break;
      }
    }
  } catch (error) {
    console.warn("offload: warm-up stopped:", error);
  }
  const stoppedBy = steps < of ? "request" : "done";
  post({ type: Reply.WARMED, steps, of, ms: performance.now() - started, stoppedBy });
}

/**
 * Nobody cancels a warm-up: a SIGINT that stopped a step was the page cancelling the run it sent
 * meanwhile (still queued here). Put it back, so that run's takeCancel sees it.
 */
function handOnCancel() {
  if (interruptBuffer) Atomics.store(interruptBuffer, 0, SIGINT);
}

// A message to ourselves is a task queued behind the page's messages that came meanwhile, without
// the 4 ms a nested setTimeout(0) waits: the warm-up yields to every request and idles little.
const turns = new MessageChannel();
/** @type {(() => void)[]} */
const waitingTurns = [];
turns.port1.onmessage = () => waitingTurns.shift()?.();

/** A promise that settles on a later turn of the event loop, after the messages already queued. */
function nextTurn() {
  return new Promise((resolve) => {
    waitingTurns.push(() => resolve(undefined));
    turns.port2.postMessage(null);
  });
}

/** The id of the run in progress, for the `input` replies its code's input() sends. */
let runningId = 0;
/** @type {number | null} the run going through Pyodide's event loop (see "unhandledrejection") */
let awaitingRun = null;
// A task that awaits runs in callbacks of Pyodide's event loop: a fatal error there (a wasm trap,
// memory exhausted) rejects a promise nobody awaits instead of throwing into runTask, and the run
// would never end. Report it as the crash it is; the client replaces this worker.
scope.addEventListener("unhandledrejection", (event) => {
  if (awaitingRun === null) return;
  event.preventDefault();
  // A cancel's KeyboardInterrupt reaching a promise of Pyodide's event loop that nobody awaits:
  // the run itself reports the cancel (or, if it never ends, the page's grace timer replaces this
  // worker). Not a crash: the interpreter is fine.
  if (/** @type {{type?: unknown}} */ (event.reason)?.type === "KeyboardInterrupt") return;
  post({ type: Reply.CRASHED, id: awaitingRun, message: `Python crashed: ${describe(event.reason)}` });
  awaitingRun = null;
});
/** @type {Int32Array | null} the page's interrupt buffer (from `init`; null without isolation) */
let interruptBuffer = null;
/** @type {Int32Array | null} where each run's id goes as it begins (InitRequest; null likewise) */
let startedBuffer = null;

/**
 * Take a cancel the page stored before the job got this far (e.g. cancel() right after run()),
 * so it ends the job here instead of landing in whatever Python runs first. The page clears the
 * buffer before it sends a job, so a signal found now is this job's.
 */
function takeCancel() {
  return interruptBuffer !== null && Atomics.exchange(interruptBuffer, 0, 0) !== 0;
}

/** @type {Set<string>} tasks that may await (their schema says `awaits`) */
let awaitingTasks = new Set();

/**
 * Run one task and post what came of it. Most tasks run synchronously; one that awaits (run_code)
 * first gets the wheelhouse packages its code imports, then runs through bridge.run_async.
 * @param {Python} python
 * @param {import("./protocol.js").RunRequest} request
 */
async function runTask(python, { id, task, params }) {
  runningId = id;
  if (startedBuffer) Atomics.store(startedBuffer, 0, id);
  /** @param {number} done @param {number} total */
  const onProgress = (done, total) => post({ type: Reply.PROGRESS, id, done, total });
  /** @param {"stdout" | "stderr"} stream @param {string} text */
  const onOutput = (stream, text) => post({ type: Reply.STDOUT, id, stream, text });
  /** @type {Outcome} */
  let outcome;
  try {
    if (takeCancel()) {
      post({ type: Reply.CANCELLED, id });
      return;
    }
    if (awaitingTasks.has(task)) {
      if (typeof params.code === "string") {
        await installImports(python, params.code, (text) => onOutput("stderr", text));
      }
      // Checked again before Pyodide's event loop starts the run: an interrupt that lands in the
      // loop's own code, outside offload.bridge, would be lost and the run left to the grace timer.
      if (takeCancel()) {
        post({ type: Reply.CANCELLED, id });
        return;
      }
      awaitingRun = id;
      try {
        outcome = await runBridgeAsync(python, task, params, onProgress, onOutput);
      } finally {
        awaitingRun = null;
      }
    } else {
      outcome = runBridge(python, task, params, onProgress, onOutput);
    }
  } catch (error) {
    // A cancel that landed in Python outside offload.bridge (installImports looks for imports in
    // Python): the interpreter is fine and the job is cancelled. Without this the interrupt would
    // be spent there and the code's sleep would wait until the client replaced the worker.
    if (/** @type {{type?: unknown}} */ (error)?.type === "KeyboardInterrupt") {
      post({ type: Reply.CANCELLED, id });
      return;
    }
    // Pyodide itself failed (a wasm trap, memory exhausted, a fatal error): this interpreter
    // cannot be trusted again.
    post({ type: Reply.CRASHED, id, message: `Python crashed: ${describe(error)}` });
    return;
  }
  if (!outcome.ok && outcome.name === "KeyboardInterrupt") {
    post({ type: Reply.CANCELLED, id });
  } else if (!outcome.ok) {
    post({
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
    post({ type: Reply.RESULT, id, value: buffer }, [buffer]);
  } else {
    post({ type: Reply.RESULT, id, value: outcome.value });
  }
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const ready = boot();
ready.catch((/** @type {unknown} */ error) => {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  post({ type: Reply.BOOT_FAILED, name, message });
});

// Set synchronously, before any await: a message posted while Pyodide boots then waits on `ready`
// instead of being lost, and messages are still handled in the order they came.
scope.onmessage = async (/** @type {MessageEvent<WorkerRequest>} */ event) => {
  const request = event.data;
  if (request.type === Request.RUN) requested = true;
  // After a failed boot the page already has `boot_failed`: there is nothing more to say.
  const python = await ready.catch(() => null);
  if (!python) return;
  switch (request.type) {
    case Request.INIT:
      // Without isolation the page sends nulls: cancel falls back to terminate + restart, and
      // input() says why it cannot ask.
      if (request.interruptBuffer) python.pyodide.setInterruptBuffer(request.interruptBuffer);
      interruptBuffer = request.interruptBuffer;
      startedBuffer = request.startedBuffer;
      installConsole(python, {
        interruptBuffer: request.interruptBuffer,
        inputBuffer: request.inputBuffer,
        ask: (prompt) => post({ type: Reply.INPUT, id: runningId, prompt }),
      });
      break;
    case Request.RUN:
      await runTask(python, request);
      break;
    default:
      post({
        type: Reply.ERROR,
        id: /** @type {{id?: number}} */ (request).id ?? null,
        name: "ProtocolError",
        message: `Unsupported request type ${JSON.stringify(/** @type {any} */ (request).type)}`,
      });
  }
};
