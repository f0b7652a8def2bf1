// Pyodide with the offload wheel: load it, run one task (or call a developer's own function)
// through offload.bridge, load the wheelhouse packages a person's code imports and a developer's
// own modules and wheels. The part that is the same wherever Python runs: in
// the worker (interpreter.js, which boots through boot.js to use memory snapshots) and, for the
// demonstration of what not to do, on the page's main thread (web/main-thread-python.js). Uses
// nothing of either global scope.

import { isCancel } from "./cancel.js";

/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */
/** @typedef {import("./protocol.js").BootInfo} BootInfo */

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
export const INDEX_URL = new URL("../pyodide/", import.meta.url).href;
export const WHEELS_URL = new URL("../wheels/", import.meta.url).href;
export const LOCKFILE_URL = new URL("pyodide-lock.json", WHEELS_URL).href;

/**
 * How long each phase took (milliseconds); `makeSnapshot` only when this boot made one.
 * @typedef {{importRuntime: number, loadRuntime: number, loadWheel: number,
 *            makeSnapshot?: number}} Phases
 */

/**
 * A loaded interpreter, its phases, how it booted, and (when it made a snapshot) the promise of
 * storing it, which the worker awaits only after announcing `ready`.
 * @typedef {{python: Python, timings: Phases, boot: BootInfo, stored: Promise<void>}} Loaded
 */

/**
 * Import Pyodide's runtime module.
 * @returns {Promise<typeof import("pyodide")>}
 */
export function importRuntime() {
  return import(PYODIDE_URL);
}

/**
 * Load Pyodide and the offload wheel the normal way (no snapshot), timing each phase.
 * @returns {Promise<Loaded>}
 */
export async function loadPython() {
  const t0 = performance.now();
  const runtime = await importRuntime();
  const boot = { source: /** @type {const} */ ("scratch"), madeSnapshot: false, note: null };
  return loadFromScratch(runtime, performance.now() - t0, boot);
}

/**
 * The normal boot: loadPyodide, then loadPackage("offload") by name from the lockfile.
 * @param {typeof import("pyodide")} runtime
 * @param {number} importRuntime  how long importing `runtime` took
 * @param {BootInfo} boot  returned as it is (boot.js fills it in when a snapshot was not used)
 * @returns {Promise<Loaded>}
 */
export async function loadFromScratch(runtime, importRuntime, boot) {
  const t1 = performance.now();
  const pyodide = await runtime.loadPyodide({ indexURL: INDEX_URL, lockFileURL: LOCKFILE_URL });
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
    timings: { importRuntime, loadRuntime: t2 - t1, loadWheel: t3 - t2 },
    boot,
    stored: Promise.resolve(),
  };
}

/**
 * Run one task through offload.bridge, which catches every Python exception and returns an
 * outcome; a throw from here is Pyodide itself failing (a wasm trap, memory exhausted). A task
 * that may await (its schema says `awaits`: run_code's top-level `await`) goes through
 * `run_async` and its outcome comes as a promise.
 * @overload
 * @param {Python} python
 * @param {string} task
 * @param {Record<string, unknown>} params
 * @param {(done: number, total: number) => void} onProgress
 * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
 * @param {false} [awaits]
 * @returns {Outcome}
 */
/**
 * @overload
 * @param {Python} python
 * @param {string} task
 * @param {Record<string, unknown>} params
 * @param {(done: number, total: number) => void} onProgress
 * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
 * @param {boolean} awaits
 * @returns {Outcome | Promise<Outcome>}
 */
/**
 * @param {Python} python
 * @param {string} task
 * @param {Record<string, unknown>} params
 * @param {(done: number, total: number) => void} onProgress
 * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
 * @param {boolean} [awaits]
 * @returns {Outcome | Promise<Outcome>}
 */
export function runBridge({ pyodide, bridge }, task, params, onProgress, onOutput, awaits = false) {
  const pyParams = pyodide.toPy(params);
  const release = () => pyParams.destroy?.();
  /** @type {any} the outcome's proxy, or (awaits) an awaitable of it */
  let called;
  try {
    called = awaits
      ? bridge.run_async(task, pyParams, onProgress, onOutput)
      : bridge.run(task, pyParams, onProgress, onOutput);
  } catch (error) {
    release();
    throw error;
  }
  if (awaits) return Promise.resolve(called).then(plainOutcome).finally(release);
  try {
    return plainOutcome(called);
  } finally {
    release();
  }
}

/**
 * An outcome proxy as plain JavaScript; the proxy is destroyed.
 * @param {import("pyodide/ffi").PyProxy} proxy
 * @returns {Outcome}
 */
function plainOutcome(proxy) {
  const outcome = toPlain(proxy);
  proxy.destroy();
  return outcome;
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

/**
 * Load the wheelhouse packages `code` imports (with their dependencies) from this site, telling
 * `onNote` what is being installed; imports of anything else are left for Python to report.
 * @param {Python} python
 * @param {string} code
 * @param {(text: string) => void} onNote
 */
export async function installImports({ pyodide }, code, onNote) {
  const findImports = pyodide.pyimport("pyodide.code").find_imports;
  /** @type {string[]} */
  let imports;
  try {
    const found = findImports(code);
    imports = found.toJs();
    found.destroy();
  } catch (error) {
    // A cancel that lands while the imports are looked for must end the job, not vanish here.
    if (isCancel(error)) throw error;
    return; // a syntax error: running the code reports it properly
  } finally {
    findImports.destroy();
  }
  const { packages } = pyodide.lockfile;
  /** @type {Map<string, string>} import name -> package name */
  const byImport = new Map();
  for (const [name, entry] of Object.entries(packages)) {
    for (const imported of entry.imports ?? []) byImport.set(imported, name);
  }
  /** @type {Set<string>} */
  const wanted = new Set();
  /** @param {string} name */
  const want = (name) => {
    if (wanted.has(name) || name in pyodide.loadedPackages) return;
    wanted.add(name);
    for (const dependency of packages[name]?.depends ?? []) want(dependency);
  };
  for (const imported of imports) {
    const name = byImport.get(imported);
    if (name) want(name);
  }
  if (wanted.size === 0) return;
  const names = [...wanted];
  onNote(`installing ${names.map((n) => `${n} ${packages[n].version}`).join(", ")} from this site\n`);
  /** @type {string[]} */
  const errors = [];
  await pyodide.loadPackage(names, {
    messageCallback: () => {},
    errorCallback: (message) => errors.push(message),
  });
  if (errors.length > 0) onNote(`installing failed: ${errors.join("; ")}\n`);
}

/**
 * Call one of the developer's functions through offload.bridge.call, which catches every Python
 * exception and returns an outcome (a throw is Pyodide itself failing, as in runBridge).
 * @param {Python} python
 * @param {string} name  "module.function"
 * @param {unknown[]} args  plain values; ArrayBuffers reach Python as memoryviews (then bytes)
 * @param {Record<string, unknown>} kwargs
 * @param {(done: number, total: number) => void} onProgress
 * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
 * @returns {Outcome}
 */
export function callBridge({ pyodide, bridge }, name, args, kwargs, onProgress, onOutput) {
  const pyArgs = pyodide.toPy(args);
  const pyKwargs = pyodide.toPy(kwargs);
  try {
    return plainOutcome(bridge.call(name, pyArgs, pyKwargs, onProgress, onOutput));
  } finally {
    pyArgs.destroy?.();
    pyKwargs.destroy?.();
  }
}

/**
 * An error loading the developer's own code (InitRequest `modules` / `packages`): the worker's
 * boot fails with it, so `boot_failed` names the URL.
 * @param {string} message
 */
function userCodeError(message) {
  const error = new Error(message);
  error.name = "UserCodeError";
  return error;
}

/**
 * The developer's own code: install each wheel of `packages` (by URL, Pyodide's loadPackage, no
 * dependency resolution), then write each module of `modules` (fetched at once, all together)
 * where `import` finds it (offload.bridge.add_module). Packages go first: a module may import them.
 * @param {Python} python
 * @param {{modules: string[], packages: string[]}} code  absolute URLs
 */
export async function installUserCode({ pyodide, bridge }, { modules, packages }) {
  const sources = Promise.all(
    modules.map(async (url) => {
      /** @type {Response} */
      let response;
      try {
        response = await fetch(url);
      } catch (error) {
        throw userCodeError(`could not fetch module ${url}: ${describeError(error)}`);
      }
      if (!response.ok) {
        throw userCodeError(`could not fetch module ${url}: HTTP ${response.status} ${response.statusText}`);
      }
      return { url, text: await response.text() };
    }),
  );
  sources.catch(() => {}); // awaited below, unless a package fails first
  if (packages.length > 0) {
    /** @type {string[]} */
    const errors = [];
    try {
      await pyodide.loadPackage(packages, { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
    } catch (error) {
      errors.push(describeError(error));
    }
    // loadPackage reports a failed download only to errorCallback.
    if (errors.length > 0) {
      throw userCodeError(`could not install ${packages.join(", ")}: ${errors.join("; ")}`);
    }
  }
  for (const { url, text } of await sources) {
    const filename = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "");
    try {
      bridge.add_module(filename, text);
    } catch (error) {
      throw userCodeError(`could not add module ${url}: ${describeError(error)}`);
    }
  }
}

/** @param {unknown} error */
function describeError(error) {
  return error instanceof Error ? error.message : String(error);
}
