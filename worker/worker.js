// The dedicated module worker: boots Pyodide from this site's own files, loads the offload wheel
// by name, then runs Python tasks on request and posts progress, output, results and errors back.
// It runs one task at a time, synchronously: while Python runs, this worker's event loop does not,
// which is why cancel goes through shared memory (the interrupt buffer) and not a message.
// Started by client.js as `new Worker(new URL("./worker.js", import.meta.url), {type: "module"})`.

import { Reply, Request } from "./protocol.js";

/** @typedef {import("./protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("./protocol.js").WorkerReply} WorkerReply */
/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */

const scope = /** @type {DedicatedWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const startedAt = performance.now();
// SharedArrayBuffer exists only in cross-origin isolated pages (COOP + COEP headers).
const interruptsPossible = scope.crossOriginIsolated && typeof SharedArrayBuffer === "function";

// Everything is resolved against this file, so the site can live under any path prefix. The
// runtime is imported by URL at run time (there is no bundler); its types come from node_modules.
const PYODIDE_URL = new URL("../pyodide/pyodide.mjs", import.meta.url).href;
const INDEX_URL = new URL("../pyodide/", import.meta.url).href;
const LOCKFILE_URL = new URL("../wheels/pyodide-lock.json", import.meta.url).href;

/**
 * Post a reply; the only place this worker calls postMessage.
 * @param {WorkerReply} reply
 * @param {Transferable[]} [transfer]
 */
function post(reply, transfer = []) {
  scope.postMessage(reply, transfer);
}

/** Load Pyodide and the offload wheel, timing each phase. */
async function boot() {
  const t0 = performance.now();
  /** @type {typeof import("pyodide").loadPyodide} */
  const loadPyodide = (await import(PYODIDE_URL)).loadPyodide;
  const t1 = performance.now();
  const pyodide = await loadPyodide({ indexURL: INDEX_URL, lockFileURL: LOCKFILE_URL });
  const t2 = performance.now();
  // The default messageCallback logs "Loading offload" to the console; the page shows timings.
  /** @type {string[]} */
  const loadErrors = [];
  await pyodide.loadPackage("offload", {
    messageCallback: () => {},
    errorCallback: (message) => loadErrors.push(message),
  });
  const t3 = performance.now();
  // loadPackage reports a bad download (e.g. a checksum mismatch) only to errorCallback.
  if (loadErrors.length > 0) throw new Error(`loading the offload wheel failed: ${loadErrors.join("; ")}`);
  const bridge = pyodide.pyimport("offload.bridge");
  const tasksProxy = bridge.tasks();
  /** @type {import("./protocol.js").TaskInfo[]} */
  const tasks = toPlain(tasksProxy);
  tasksProxy.destroy();
  post({
    type: Reply.READY,
    python: pyodide.runPython("import sys; sys.version.split()[0]"),
    pyodide: pyodide.version,
    timings: {
      importRuntime: t1 - t0,
      loadRuntime: t2 - t1,
      loadWheel: t3 - t2,
      total: t3 - startedAt,
    },
    capabilities: {
      crossOriginIsolated: scope.crossOriginIsolated,
      sharedArrayBuffer: typeof SharedArrayBuffer === "function",
      hardwareConcurrency: navigator.hardwareConcurrency,
      interrupts: interruptsPossible,
    },
    tasks,
  });
  return { pyodide, bridge };
}

/**
 * Run one task through offload.bridge.run, which never raises: it returns an outcome dict.
 * @param {{pyodide: PyodideAPI, bridge: any}} python
 * @param {import("./protocol.js").RunRequest} request
 */
function runTask({ pyodide, bridge }, { id, task, params }) {
  /** @param {number} done @param {number} total */
  const onProgress = (done, total) => post({ type: Reply.PROGRESS, id, done, total });
  /** @param {"stdout" | "stderr"} stream @param {string} text */
  const onOutput = (stream, text) => post({ type: Reply.STDOUT, id, stream, text });
  /** @type {{ok: boolean, value?: unknown, name?: string, message?: string, traceback?: string}} */
  let outcome;
  try {
    const pyParams = pyodide.toPy(params);
    const outcomeProxy = bridge.run(task, pyParams, onProgress, onOutput);
    outcome = toPlain(outcomeProxy);
    outcomeProxy.destroy();
    pyParams.destroy?.();
  } catch (error) {
    // bridge.run catches every Python exception, so a throw here is Pyodide itself failing (a
    // wasm trap, memory exhausted, a fatal error): this interpreter cannot be trusted again.
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

/**
 * A Python value as plain JavaScript: dicts become objects and None becomes null (toJs alone
 * makes it undefined, which would drop the key on the page's side: {result_repr: None} must
 * arrive as {result_repr: null}).
 * @param {import("pyodide/ffi").PyProxy} proxy
 * @returns {any}
 */
function toPlain(proxy) {
  /** @param {unknown} value @returns {unknown} */
  const nullify = (value) => {
    if (value === undefined) return null;
    if (Array.isArray(value)) return value.map(nullify);
    if (value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nullify(v)]));
    }
    return value;
  };
  return nullify(/** @type {any} */ (proxy).toJs({ dict_converter: Object.fromEntries }));
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const ready = boot();
ready.catch((/** @type {unknown} */ error) => {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  post({ type: Reply.ERROR, id: null, name, message: `The worker could not start: ${message}` });
});

// Set synchronously, before any await: a message posted while Pyodide boots then waits on `ready`
// instead of being lost, and messages are still handled in the order they came.
scope.onmessage = async (/** @type {MessageEvent<WorkerRequest>} */ event) => {
  const request = event.data;
  const python = await ready;
  switch (request.type) {
    case Request.INIT:
      // Without isolation the page sends null and cancel falls back to terminate + restart.
      if (request.interruptBuffer) python.pyodide.setInterruptBuffer(request.interruptBuffer);
      break;
    case Request.RUN:
      runTask(python, request);
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
