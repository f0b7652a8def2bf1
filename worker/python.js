// Pyodide with the offload wheel, and one task run through offload.bridge — the part that is the
// same wherever Python runs: in the worker (worker.js) and, for the demonstration of what not to
// do, on the page's main thread (web/main-thread-python.js). Uses nothing of either global scope.

import { ANSWER_OFFSET, InputSlot, InputState } from "./protocol.js";
import * as snapshots from "./snapshot.js";

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
const WHEELS_URL = new URL("../wheels/", import.meta.url).href;
const LOCKFILE_URL = new URL("pyodide-lock.json", WHEELS_URL).href;
// Pyodide's Emscripten module: imported here (as loadPyodide would) so that it loads at once.
const ASM_URL = new URL("pyodide.asm.mjs", INDEX_URL).href;

/**
 * How a worker booted, for its `ready` reply and the page.
 * @typedef {object} BootInfo
 * @property {"snapshot" | "scratch"} source  restored from a memory snapshot, or booted normally
 * @property {boolean} madeSnapshot  this boot made the snapshot later workers restore
 * @property {string | null} note  why a snapshot was not used or not kept (null when all went well)
 */

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
 * What a boot with snapshots fetches, all asked for at once when it starts, so that the reads
 * overlap each other and the runtime's loading instead of waiting in turn (docs/startup.md):
 * the lockfile, the stored snapshot (30 MiB, read at once), the runtime's Emscripten module, the
 * wheel.
 * @typedef {object} Prefetched
 * @property {Promise<snapshots.Lockfile>} lockfile
 * @property {Promise<snapshots.StoredSnapshot | null>} snapshot
 * @property {Promise<CreatePyodideModule>} createPyodideModule
 * @property {Promise<ArrayBuffer>} wheel
 */

/** @typedef {NonNullable<import("pyodide").PyodideConfig["createPyodideModule"]>} CreatePyodideModule */

/** @returns {Prefetched} */
function prefetch() {
  const lockfile = fetch(LOCKFILE_URL).then((response) => response.json());
  /** @type {Prefetched} */
  const prefetched = {
    lockfile,
    snapshot: snapshots.openSnapshot(),
    createPyodideModule: import(ASM_URL).then((module) => module.default),
    wheel: lockfile.then((contents) => snapshots.fetchWheel(contents, WHEELS_URL)),
  };
  // Each is awaited where it is needed, or not at all when an earlier step failed.
  for (const promise of Object.values(prefetched)) promise.catch(() => {});
  return prefetched;
}

/**
 * Load Pyodide and the offload wheel, timing each phase (milliseconds).
 *
 * With `snapshot: true` (the worker), restore the memory snapshot stored for this build when there
 * is a valid one, else boot from scratch and make one for the next workers; any failure of the
 * snapshot path ends in a normal boot and a `note` saying why. Without (the page's main-thread
 * demo), always a normal boot.
 * @param {{snapshot?: boolean}} [options]
 * @returns {Promise<Loaded>}
 */
export async function loadPython({ snapshot = false } = {}) {
  const t0 = performance.now();
  const prefetched = snapshot ? prefetch() : null;
  /** @type {typeof import("pyodide")} */
  const runtime = await import(PYODIDE_URL);
  const importRuntime = performance.now() - t0;
  /** @type {BootInfo} */
  const boot = { source: "scratch", madeSnapshot: false, note: null };
  if (prefetched) {
    const loaded = await loadWithSnapshot(runtime, prefetched, boot);
    if (loaded) return { ...loaded, timings: { importRuntime, ...loaded.timings } };
  }
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
 * loadPyodide's options for restoring `stored` while its digest is still being checked (off this
 * thread): Pyodide instantiates the runtime meanwhile, and the module factory, the last step
 * before Pyodide reads the heap, waits for the check. A corrupt heap fails there, unread.
 * @param {snapshots.StoredSnapshot} stored
 * @param {CreatePyodideModule} createPyodideModule  from pyodide.asm.mjs
 * @returns {import("pyodide").PyodideConfig}
 */
function restoring(stored, createPyodideModule) {
  return {
    _loadSnapshot: stored.heap,
    createPyodideModule: async (settings) => {
      const module = await createPyodideModule(settings);
      await stored.checked;
      return module;
    },
  };
}

/**
 * The snapshot path of loadPython: restore, or make. Null (with `boot.note` set when something
 * failed) means "boot normally": no valid snapshot, another worker is making it, or a step failed.
 * @param {typeof import("pyodide")} runtime
 * @param {Prefetched} prefetched
 * @param {BootInfo} boot  filled in here
 * @returns {Promise<Omit<Loaded, "timings"> & {timings: Omit<Phases, "importRuntime">} | null>}
 */
async function loadWithSnapshot(runtime, prefetched, boot) {
  /** @type {snapshots.Lockfile} */
  let lockfile;
  /** @type {string} */
  let key;
  /** @type {CreatePyodideModule} */
  let createPyodideModule;
  try {
    lockfile = await prefetched.lockfile;
    key = snapshots.snapshotKey(runtime.version, lockfile);
    createPyodideModule = await prefetched.createPyodideModule;
  } catch (error) {
    boot.note = `snapshots off: ${snapshots.describe(error)}`;
    return null;
  }
  /** @type {import("pyodide").PyodideConfig} */
  const config = {
    indexURL: INDEX_URL,
    lockFileContents: lockfile,
    packageBaseUrl: WHEELS_URL,
    createPyodideModule,
  };
  /** @type {snapshots.StoredSnapshot | null} */
  let stored = null;
  try {
    stored = await prefetched.snapshot;
    if (stored) snapshots.checkBuild(stored, key);
  } catch (error) {
    stored = null;
    boot.note = `snapshot not used: ${snapshots.describe(error)}; booted from scratch`;
    await snapshots.dropSnapshot().catch(() => {});
  }
  if (stored) {
    try {
      const t1 = performance.now();
      const pyodide = await runtime.loadPyodide({ ...config, ...restoring(stored, createPyodideModule) });
      const t2 = performance.now();
      snapshots.unpackWheel(pyodide, await prefetched.wheel);
      pyodide.runPython(snapshots.RESEED);
      const bridge = pyodide.pyimport("offload.bridge");
      const t3 = performance.now();
      boot.source = "snapshot";
      return {
        python: { pyodide, bridge },
        timings: { loadRuntime: t2 - t1, loadWheel: t3 - t2 },
        boot,
        stored: Promise.resolve(),
      };
    } catch (error) {
      // Corrupt bytes (the digest), or bytes Pyodide refuses (the digest covers the bytes, not
      // whether Pyodide takes them): forget them and boot from scratch, which makes a new one.
      const why = snapshots.describe(error);
      boot.note =
        error instanceof snapshots.SnapshotError
          ? `snapshot not used: ${why}; booted from scratch`
          : `the stored snapshot did not restore (${why}); booted from scratch`;
      await snapshots.dropSnapshot().catch(() => {});
    }
  }
  const release = await snapshots.claimMaker();
  if (!release) return null; // another worker is making it: boot normally meanwhile
  const failure = await snapshots.lastStoreFailure().catch(() => null);
  if (failure && !boot.note) boot.note = `the last snapshot could not be stored: ${failure}`;
  /** @type {PyodideAPI} */
  let pyodide;
  const t1 = performance.now();
  try {
    pyodide = await runtime.loadPyodide({ ...config, _makeSnapshot: true });
  } catch (error) {
    release();
    boot.note = `no snapshot made (${snapshots.describe(error)}); booted from scratch`;
    return null;
  }
  const t2 = performance.now();
  snapshots.unpackWheel(pyodide, await prefetched.wheel);
  pyodide.runPython(snapshots.WARM_IMPORTS);
  const t3 = performance.now();
  let storing = Promise.resolve();
  try {
    // Taken before the bridge is imported into JavaScript: a snapshot must hold no JS reference
    // but the runtime's own (after loadPackage it fails with "Unexpected hiwire entry").
    const bytes = pyodide.makeMemorySnapshot();
    boot.madeSnapshot = true;
    storing = snapshots.storeSnapshot(key, bytes);
  } catch (error) {
    boot.note = `no snapshot made: ${snapshots.describe(error)}`;
  }
  storing = storing.finally(release);
  const t4 = performance.now();
  return {
    python: { pyodide, bridge: pyodide.pyimport("offload.bridge") },
    timings: { loadRuntime: t2 - t1, loadWheel: t3 - t2, makeSnapshot: t4 - t3 },
    boot,
    stored: storing,
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

// --- the console of a person's code: input() and time.sleep over shared memory ----------------
// Python blocks the worker while it runs, so neither an answer nor a cancel can arrive as a
// message. Both wait with Atomics.wait, which the page's notify after a cancel wakes: input() in
// short slices with pyodide.checkInterrupt() between them, as Pyodide's docs show
// (usage/keyboard-interrupts.md), time.sleep on the interrupt buffer itself. Either way a cancel
// raises KeyboardInterrupt in the waiting code and the interpreter lives on.

/** The longest Atomics.wait between two interrupt checks: bounds how late a cancel is seen. */
export const WAIT_SLICE_MS = 50;

/**
 * A `time.sleep` that Cancel ends at once: it waits on the interrupt buffer itself, so the page's
 * Atomics.notify after storing SIGINT wakes it. It takes the signal out of the buffer and returns
 * it; offload.interactive then runs Python's handler (KeyboardInterrupt). Raising it here with
 * pyodide.checkInterrupt() would turn the KeyboardInterrupt into a JavaScript error and back.
 * @param {Int32Array} interruptBuffer
 * @returns {(seconds: number) => number}  the signal that ended the sleep early, else 0
 */
export function blockingSleep(interruptBuffer) {
  return (seconds) => {
    const deadline = performance.now() + seconds * 1000;
    for (let left = seconds * 1000; left > 0; left = deadline - performance.now()) {
      // Returns at once when a signal is already stored: one sent just before is not missed.
      Atomics.wait(interruptBuffer, 0, 0, left);
      const signal = Atomics.exchange(interruptBuffer, 0, 0);
      if (signal !== 0) return signal;
    }
    return 0;
  };
}

/**
 * An `input()` that asks the page and waits for its answer in the input buffer.
 * @param {PyodideAPI} pyodide
 * @param {Int32Array} inputBuffer  see InputSlot / InputState in protocol.js
 * @param {(prompt: string) => void} ask  tells the page (posts the `input` reply)
 * @returns {(prompt: string) => string | undefined}  undefined: no answer (end of input); it
 *   reaches Python as None (a JS null would arrive as pyodide.ffi.jsnull)
 */
export function blockingInput(pyodide, inputBuffer, ask) {
  return (prompt) => {
    Atomics.store(inputBuffer, InputSlot.STATE, InputState.WAITING);
    ask(prompt);
    for (;;) {
      Atomics.wait(inputBuffer, InputSlot.STATE, InputState.WAITING, WAIT_SLICE_MS);
      pyodide.checkInterrupt();
      const state = Atomics.load(inputBuffer, InputSlot.STATE);
      if (state === InputState.NO_ANSWER) return undefined;
      if (state === InputState.ANSWERED) {
        const length = Atomics.load(inputBuffer, InputSlot.LENGTH);
        // TextDecoder refuses views of shared memory: copy the bytes out first.
        const bytes = new Uint8Array(inputBuffer.buffer, ANSWER_OFFSET, length).slice();
        return new TextDecoder().decode(bytes);
      }
    }
  };
}

/** Why input() cannot ask in a page without cross-origin isolation (shown as its EOFError). */
export const NOT_ISOLATED =
  "input() cannot wait for your answer here: the page is not cross-origin isolated (it was " +
  "served without the Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), so " +
  "there is no SharedArrayBuffer for the worker to wait on";

/**
 * Install the console offload.interactive hands to a person's code: input() and time.sleep over
 * the shared buffers when there are any, and the wheelhouse's names for a missing module's hint.
 * @param {Python} python
 * @param {{interruptBuffer: Int32Array | null, inputBuffer: Int32Array | null,
 *          ask: (prompt: string) => void}} options
 */
export function installConsole({ pyodide }, { interruptBuffer, inputBuffer, ask }) {
  const interactive = pyodide.pyimport("offload.interactive");
  // undefined, not null, for "none": Python receives undefined as None, null as jsnull.
  const readLine = inputBuffer ? blockingInput(pyodide, inputBuffer, ask) : undefined;
  // Without an interrupt buffer Cancel restarts the worker anyway: Pyodide's own sleep will do.
  const sleep = interruptBuffer ? blockingSleep(interruptBuffer) : undefined;
  const wheelhouse = Object.keys(pyodide.lockfile.packages).filter((name) => name !== "offload");
  interactive.install(readLine, sleep, NOT_ISOLATED, wheelhouse);
  interactive.destroy();
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
    if (/** @type {{type?: unknown}} */ (error)?.type === "KeyboardInterrupt") throw error;
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
 * `runBridge` for tasks that may await (run_code's top-level `await`): offload.bridge.run_async.
 * @param {Python} python
 * @param {string} task
 * @param {Record<string, unknown>} params
 * @param {(done: number, total: number) => void} onProgress
 * @param {(stream: "stdout" | "stderr", text: string) => void} onOutput
 * @returns {Promise<Outcome>}
 */
export async function runBridgeAsync({ pyodide, bridge }, task, params, onProgress, onOutput) {
  const pyParams = pyodide.toPy(params);
  try {
    const outcomeProxy = await bridge.run_async(task, pyParams, onProgress, onOutput);
    const outcome = toPlain(outcomeProxy);
    outcomeProxy.destroy();
    return outcome;
  } finally {
    pyParams.destroy?.();
  }
}
