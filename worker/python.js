// Pyodide with the offload wheel, and one task run through offload.bridge — the part that is the
// same wherever Python runs: in the worker (worker.js) and, for the demonstration of what not to
// do, on the page's main thread (web/main-thread-python.js). Uses nothing of either global scope.

/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */

/**
 * A loaded interpreter and the bridge module tasks run through.
 * @typedef {{pyodide: PyodideAPI, bridge: any}} Python
 */

/**
 * What offload.bridge.run returns, as plain JavaScript.
 * @typedef {{ok: boolean, value?: unknown, name?: string, message?: string,
 *            traceback?: string}} Outcome
 */

// Resolved against this file, so the site can live under any path prefix. The runtime is imported
// by URL at run time (there is no bundler); its types come from node_modules.
const PYODIDE_URL = new URL("../pyodide/pyodide.mjs", import.meta.url).href;
const INDEX_URL = new URL("../pyodide/", import.meta.url).href;
const LOCKFILE_URL = new URL("../wheels/pyodide-lock.json", import.meta.url).href;

/**
 * Load Pyodide and the offload wheel, timing each phase (milliseconds).
 * @returns {Promise<{python: Python, timings: {importRuntime: number, loadRuntime: number,
 *                                               loadWheel: number}}>}
 */
export async function loadPython() {
  const t0 = performance.now();
  /** @type {typeof import("pyodide").loadPyodide} */
  const loadPyodide = (await import(PYODIDE_URL)).loadPyodide;
  const t1 = performance.now();
  const pyodide = await loadPyodide({ indexURL: INDEX_URL, lockFileURL: LOCKFILE_URL });
  const t2 = performance.now();
  /** @type {string[]} */
  const loadErrors = [];
  await pyodide.loadPackage("offload", {
    messageCallback: () => {}, // the default logs "Loading offload"; callers report timings
    errorCallback: (message) => loadErrors.push(message),
  });
  const t3 = performance.now();
  // loadPackage reports a bad download (e.g. a checksum mismatch) only to errorCallback.
  if (loadErrors.length > 0) throw new Error(`loading the offload wheel failed: ${loadErrors.join("; ")}`);
  return {
    python: { pyodide, bridge: pyodide.pyimport("offload.bridge") },
    timings: { importRuntime: t1 - t0, loadRuntime: t2 - t1, loadWheel: t3 - t2 },
  };
}

/**
 * Run one task through offload.bridge.run, which catches every Python exception and returns an
 * outcome; a throw from here is Pyodide itself failing (a wasm trap, memory exhausted).
 * @param {Python} python
 * @param {string} task
 * @param {Record<string, unknown>} params
 * @param {(done: number, total: number) => void} onProgress
 * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
 * @returns {Outcome}
 */
export function runBridge({ pyodide, bridge }, task, params, onProgress, onOutput) {
  const pyParams = pyodide.toPy(params);
  try {
    const outcomeProxy = bridge.run(task, pyParams, onProgress, onOutput);
    const outcome = toPlain(outcomeProxy);
    outcomeProxy.destroy();
    return outcome;
  } finally {
    pyParams.destroy?.();
  }
}

/**
 * A Python value as plain JavaScript: dicts become objects and None becomes null (toJs alone
 * makes it undefined, which would drop the key on the page's side: {result_repr: None} must
 * arrive as {result_repr: null}).
 * @param {import("pyodide/ffi").PyProxy} proxy
 * @returns {any}
 */
export function toPlain(proxy) {
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
