// The PyScript baseline of the start-up rows: `offloadPyScript.firstOutput()` starts a PyScript
// 0.7.31 worker (PyWorker) on this site's own Pyodide files and resolves with the milliseconds
// until the worker's first output reaches the page. Served by bench/pyscript.py, which maps
// /pyscript/ to node_modules/@pyscript/core/dist and sends no CSP (PyScript needs unsafe-eval).

const PYODIDE = new URL("/pyodide/pyodide.mjs", location.href).href;
const MARK = "offload-bench: first output";
// The worker's Python: it exports one function whose answer is its first output on the page.
// A blob, so no .py file ships.
const SOURCE = `def first_output():\n    return ${JSON.stringify(MARK)}\n\n__export__ = ["first_output"]\n`;

const pyscript = {
  /** @returns {Promise<{ms: number}>} */
  async firstOutput() {
    const started = performance.now();
    /** @type {any} */
    const core = await import(new URL("/pyscript/core.js", location.href).href);
    const source = URL.createObjectURL(new Blob([SOURCE], { type: "text/plain" }));
    // PyWorker resolves once the worker runs its code; `sync.first_output()` is then a round trip.
    const worker = await core.PyWorker(source, { version: PYODIDE, config: { interpreter: PYODIDE } });
    const output = await worker.sync.first_output();
    if (output !== MARK) throw new Error(`PyScript's worker said ${JSON.stringify(output)}`);
    const ms = performance.now() - started;
    worker.terminate();
    return { ms };
  },
};

/** @type {any} */ (globalThis).offloadPyScript = pyscript;
document.body.dataset.ready = "true";
