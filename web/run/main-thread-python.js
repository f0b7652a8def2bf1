// Python on the page's main thread — the thing not to do, kept here to show why. It loads the same
// Pyodide runtime and offload wheel as the worker, on first use, through the same module
// (worker/python.js); while a task runs, nothing else on the page can happen.

import { PythonError } from "../../worker/errors.js";
import { loadPython, runBridge } from "../../worker/python.js";

/** @type {Promise<import("../../worker/python.js").Python> | null} */
let loading = null;

let loaded = false;

/** Whether Python is already loaded on the main thread (a run then freezes only for the task). */
export function isMainThreadPythonLoaded() {
  return loaded;
}

/** Load Pyodide and the offload wheel on the main thread, once. */
export function loadMainThreadPython() {
  loading ??= loadPython().then(({ python }) => {
    loaded = true;
    return python;
  });
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
  const python = await loadMainThreadPython();
  const outcome = runBridge(python, task, params, onProgress, (_stream, text) => onStdout(text));
  if (!outcome.ok) {
    throw new PythonError(outcome.name ?? "Error", outcome.message ?? "", outcome.traceback);
  }
  return outcome.value instanceof Uint8Array ? outcome.value.buffer : outcome.value;
}
