// The dedicated module worker's entry: binds the dispatcher (dispatcher.js) to this worker's global
// scope and the real Pyodide (interpreter.js). Everything it does is in those modules; this file
// only knows `self`. Started by endpoint.js as
// `new Worker(new URL("./worker.js", import.meta.url), {type: "module"})`.

import { expose } from "./dispatcher.js";
import { pyodideInterpreter } from "./interpreter.js";

const startedAt = performance.now();
const scope = /** @type {DedicatedWorkerGlobalScope} */ (/** @type {unknown} */ (self));

// Exposed synchronously, before any await: a message posted while Pyodide boots then waits for
// the boot instead of being lost. SharedArrayBuffer exists only in cross-origin isolated pages
// (COOP + COEP headers); without it cancel terminates and restarts the worker.
const dispatcher = expose(pyodideInterpreter(), scope, {
  startedAt,
  capabilities: {
    crossOriginIsolated: scope.crossOriginIsolated,
    sharedArrayBuffer: typeof SharedArrayBuffer === "function",
    hardwareConcurrency: navigator.hardwareConcurrency,
    interrupts: scope.crossOriginIsolated && typeof SharedArrayBuffer === "function",
  },
});

scope.addEventListener("unhandledrejection", (event) => {
  if (dispatcher.unhandled(event.reason)) event.preventDefault();
});
