// The worker's boot: restore this build's memory snapshot when there is a valid one, else boot
// from scratch and make one for the next workers (docs/startup.md). Any failure of the snapshot
// path ends in a normal boot (python.js) and a `note` saying why. Worker-only: the page's
// main-thread Python boots with python.js alone.

import { INDEX_URL, LOCKFILE_URL, WHEELS_URL, importRuntime, loadFromScratch } from "./python.js";
import * as snapshots from "./snapshot.js";

/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */
/** @typedef {import("./protocol.js").BootInfo} BootInfo */
/** @typedef {import("./python.js").Loaded} Loaded */
/** @typedef {import("./python.js").Phases} Phases */

// Pyodide's Emscripten module: imported here (as loadPyodide would) so that it loads at once.
const ASM_URL = new URL("pyodide.asm.mjs", INDEX_URL).href;

/**
 * Load Pyodide and the offload wheel, through a memory snapshot where possible, timing each phase.
 * @returns {Promise<Loaded>}
 */
export async function loadWorkerPython() {
  const t0 = performance.now();
  const missing = snapshotsMissing();
  if (missing) {
    // Outside a secure context (plain http on a LAN address) there is no crypto.subtle to check a
    // snapshot with and no OPFS to keep one in: boot from scratch, and say why once.
    const runtime = await importRuntime();
    /** @type {BootInfo} */
    const boot = { source: "scratch", madeSnapshot: false, note: `snapshots off: ${missing}` };
    return loadFromScratch(runtime, performance.now() - t0, boot);
  }
  const prefetched = prefetch();
  const runtime = await importRuntime();
  const importRuntimeMs = performance.now() - t0;
  /** @type {BootInfo} */
  const boot = { source: "scratch", madeSnapshot: false, note: null };
  const loaded = await loadWithSnapshot(runtime, prefetched, boot);
  if (loaded) return { ...loaded, timings: { importRuntime: importRuntimeMs, ...loaded.timings } };
  return loadFromScratch(runtime, importRuntimeMs, boot);
}

/**
 * Why this worker cannot use snapshots (what its context lacks), or null when it can.
 * @returns {string | null}
 */
export function snapshotsMissing() {
  const lacks = [
    ...(typeof globalThis.crypto?.subtle?.digest === "function" ? [] : ["crypto.subtle"]),
    ...(typeof navigator.storage?.getDirectory === "function" ? [] : ["OPFS"]),
  ];
  if (lacks.length === 0) return null;
  const why = globalThis.isSecureContext ? "this browser" : "not a secure context";
  return `${why}: no ${lacks.join(", no ")}`;
}

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
      // Said because it is slower and engine-specific: the fast path (a shared read-only sync
      // handle, Chromium) needs no note.
      if (stored.via === "file") boot.note = "snapshot read as a File (this browser shares no read-only sync handles)";
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
