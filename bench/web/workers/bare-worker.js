// A bare Pyodide worker, the benchmark's baseline: loadPyodide, optionally our wheel, runPython.
// None of Offload's worker is here (no protocol module, no bridge, no progress, no errors turned
// into messages), so "Offload ÷ this" is exactly what Offload's worker adds.
//
//   new Worker("workers/bare-worker.js?wheel=1", {type: "module"})
//   -> {type: "ready", ms}                      ms: script start to Python ready, inside the worker
//   <- {type: "run", id, code}  -> {type: "result", id, ms}

const scope = /** @type {DedicatedWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const startedAt = performance.now();
const PYODIDE_URL = new URL("../../../pyodide/pyodide.mjs", import.meta.url).href;
const INDEX_URL = new URL("../../../pyodide/", import.meta.url).href;
const LOCKFILE_URL = new URL("../../../wheels/pyodide-lock.json", import.meta.url).href;
const withWheel = new URL(import.meta.url).searchParams.get("wheel") === "1";

async function boot() {
  /** @type {typeof import("pyodide").loadPyodide} */
  const loadPyodide = (await import(PYODIDE_URL)).loadPyodide;
  const pyodide = await loadPyodide({ indexURL: INDEX_URL, lockFileURL: LOCKFILE_URL });
  if (withWheel) await pyodide.loadPackage("offload", { messageCallback: () => {} });
  scope.postMessage({ type: "ready", ms: performance.now() - startedAt });
  return pyodide;
}

const ready = boot();

scope.onmessage = async (/** @type {MessageEvent<{type: string, id: number, code: string}>} */ event) => {
  const pyodide = await ready;
  const { type, id, code } = event.data;
  if (type !== "run") throw new Error(`Unsupported request type ${JSON.stringify(type)}`);
  const started = performance.now();
  const value = pyodide.runPython(code);
  // Take the result out of the wasm heap as any caller must; bytes go back as a transfer.
  const plain = value?.toJs ? value.toJs({ dict_converter: Object.fromEntries }) : value;
  value?.destroy?.();
  const ms = performance.now() - started;
  if (plain instanceof Uint8Array) {
    scope.postMessage({ type: "result", id, ms, value: plain.buffer }, [plain.buffer]);
  } else {
    scope.postMessage({ type: "result", id, ms, value: plain });
  }
};
