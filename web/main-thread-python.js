// Python on the page's main thread — the thing not to do, kept here to show why. It loads the same
// Pyodide runtime and the same offload wheel as the worker, on first use, and calls the same
// offload.bridge.run; while that call runs, nothing else on the page can happen.

import { PythonError } from "./worker/client.js";

/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */

const PYODIDE_URL = new URL("./pyodide/pyodide.mjs", import.meta.url).href;
const INDEX_URL = new URL("./pyodide/", import.meta.url).href;
const LOCKFILE_URL = new URL("./wheels/pyodide-lock.json", import.meta.url).href;

/** @type {Promise<{pyodide: PyodideAPI, bridge: any}> | null} */
let loading = null;

/** Load Pyodide and the offload wheel on the main thread, once. */
export function loadMainThreadPython() {
  loading ??= (async () => {
    /** @type {typeof import("pyodide").loadPyodide} */
    const loadPyodide = (await import(PYODIDE_URL)).loadPyodide;
    const pyodide = await loadPyodide({ indexURL: INDEX_URL, lockFileURL: LOCKFILE_URL });
    await pyodide.loadPackage("offload", { messageCallback: () => {} });
    return { pyodide, bridge: pyodide.pyimport("offload.bridge") };
  })();
  return loading;
}

/**
 * Run a task synchronously on the main thread; the page is frozen until it returns.
 * @param {string} task
 * @param {Record<string, unknown>} params
 * @param {{onProgress: (done: number, total: number) => void, onStdout: (text: string) => void}} hooks
 *   called as in the worker, but nothing on the page repaints until the task returns
 * @returns {Promise<unknown>} the task's value (an ArrayBuffer for bytes)
 */
export async function runOnMainThread(task, params, { onProgress, onStdout }) {
  const { pyodide, bridge } = await loadMainThreadPython();
  const pyParams = pyodide.toPy(params);
  const onOutput = (/** @type {string} */ _stream, /** @type {string} */ text) => onStdout(text);
  const outcomeProxy = bridge.run(task, pyParams, onProgress, onOutput);
  /** @type {{ok: boolean, value?: unknown, name?: string, message?: string, traceback?: string}} */
  const outcome = outcomeProxy.toJs({ dict_converter: Object.fromEntries });
  outcomeProxy.destroy();
  pyParams.destroy?.();
  if (!outcome.ok) {
    throw new PythonError(outcome.name ?? "Error", outcome.message ?? "", outcome.traceback);
  }
  return outcome.value instanceof Uint8Array ? outcome.value.buffer : outcome.value;
}
