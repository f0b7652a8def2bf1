// Memory snapshots of a booted interpreter: made once by the first worker that boots from scratch
// in this browser, kept in Cache Storage, restored by every later worker (the pool's other workers,
// the next visit) in a fraction of a normal boot. docs/startup.md says why it is made here and not
// at build time, and what a restore must redo (the wheel's files, the random state).
//
// Pyodide's snapshot API is private (`_makeSnapshot`, `_loadSnapshot`, `makeMemorySnapshot`): every
// step here may fail on another Pyodide, and python.js falls back to a normal boot when one does.
// Uses only what both a worker and a window have (caches, crypto.subtle, navigator.locks).

/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */

/** @typedef {import("pyodide").Lockfile} Lockfile */

/**
 * Why a stored snapshot was not used; python.js turns it into the `ready` note.
 */
export class SnapshotError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "SnapshotError";
  }
}

// One slot: a new build's snapshot replaces the old one, so nothing accumulates. The URL is only a
// cache key (nothing is ever fetched from it); it is on this origin because Cache Storage wants one.
// Made on use, not at import: this module must load where there is no `location` (Node's tests).
export const CACHE_NAME = "offload-snapshot";
export const slot = () => new URL("/__offload__/snapshot", globalThis.location.origin).href;
// What went wrong the last time a snapshot could not be stored (a quota, say), so the next boot
// can say why it had none.
const failureSlot = () => new URL("/__offload__/snapshot-failure", globalThis.location.origin).href;
const BUILD_HEADER = "x-offload-build";
const DIGEST_HEADER = "x-offload-sha256";
// Only one worker makes the snapshot; the others boot plainly meanwhile.
const MAKER_LOCK = "offload-snapshot-maker";

// A restored heap is the maker's heap; Pyodide starts with 30 MiB and cannot restore a snapshot
// of a heap that has grown past its initial size (pyodide#6254), so a bigger one is not stored.
const MAX_SNAPSHOT_BYTES = 30 * 1024 * 1024 + 64 * 1024;

/**
 * Python run before the snapshot is taken: everything a task needs is imported then, so a restored
 * worker imports nothing. `offload.bridge` imports the task registry and every task.
 */
export const WARM_IMPORTS = "import offload.bridge, random, traceback, linecache";

/**
 * Python run after every restore: what must differ between workers. The global `random` generator
 * was the maker's, state and all: reseed it from the OS (crypto.getRandomValues). Seeded tasks
 * make their own `random.Random(seed)` and are unaffected. The str hash secret cannot change once
 * Python runs, so every restored worker shares the maker's (docs/startup.md).
 */
export const RESEED = "import random; random.seed()";

/**
 * The snapshot's identity: a snapshot is valid only for the Pyodide build, the offload wheel, and
 * the time zone and language it was made under (Python read both into its heap at start-up).
 * @param {string} pyodideVersion
 * @param {Lockfile} lockfile
 * @returns {string}
 */
export function snapshotKey(pyodideVersion, lockfile) {
  const wheel = lockfile.packages.offload;
  if (!wheel) throw new SnapshotError("the lockfile lists no offload wheel");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `pyodide ${pyodideVersion}; offload ${wheel.sha256}; ${zone}; ${navigator.language}`;
}

/**
 * The stored snapshot for `key`: null when there is none. Its bytes come as a promise so that
 * loadPyodide can start fetching and compiling the runtime while they are read and their digest
 * checked (it awaits them only before instantiating the wasm module).
 * @param {string} key
 * @returns {Promise<{bytes: Promise<Uint8Array>} | null>}
 * @throws {SnapshotError} the stored snapshot belongs to another build
 */
export async function openSnapshot(key) {
  const cache = await caches.open(CACHE_NAME);
  const response = await cache.match(slot());
  if (!response) return null;
  const build = response.headers.get(BUILD_HEADER);
  if (build !== key) {
    throw new SnapshotError(`the stored snapshot was made for another build (${build}), not ${key}`);
  }
  const expected = response.headers.get(DIGEST_HEADER);
  const bytes = response.arrayBuffer().then(async (buffer) => {
    const digest = await sha256(buffer);
    if (digest !== expected) {
      throw new SnapshotError(`the stored snapshot is corrupt (sha256 ${digest}, stored ${expected})`);
    }
    return new Uint8Array(buffer);
  });
  bytes.catch(() => {}); // awaited by loadPyodide; a rejection there is the one that counts
  return { bytes };
}

/**
 * Keep `snapshot` for later workers; on failure, remember why (for the next boot's note).
 * @param {string} key
 * @param {Uint8Array} snapshot
 * @returns {Promise<void>}
 */
export async function storeSnapshot(key, snapshot) {
  const cache = await caches.open(CACHE_NAME);
  try {
    if (snapshot.byteLength > MAX_SNAPSHOT_BYTES) {
      throw new SnapshotError(`the heap grew to ${snapshot.byteLength} bytes, more than Pyodide can restore`);
    }
    const body = /** @type {Uint8Array<ArrayBuffer>} */ (snapshot);
    const headers = { [BUILD_HEADER]: key, [DIGEST_HEADER]: await sha256(body) };
    await cache.put(slot(), new Response(body, { headers }));
    await cache.delete(failureSlot());
  } catch (error) {
    await cache.delete(slot());
    await cache.put(failureSlot(), new Response(describe(error))).catch(() => {});
    throw error;
  }
}

/** Forget the stored snapshot (it failed to restore); the next boot from scratch makes another. */
export async function dropSnapshot() {
  const cache = await caches.open(CACHE_NAME);
  await cache.delete(slot());
}

/**
 * Why the last snapshot could not be stored, or null.
 * @returns {Promise<string | null>}
 */
export async function lastStoreFailure() {
  const cache = await caches.open(CACHE_NAME);
  const response = await cache.match(failureSlot());
  return response ? response.text() : null;
}

/**
 * Become the one worker that makes the snapshot. Resolves to a function that gives the role up
 * (call it once the snapshot is stored), or to null when another worker has it. Without Web Locks
 * every worker may make one; the last to store it wins, which is harmless.
 * @returns {Promise<(() => void) | null>}
 */
export function claimMaker() {
  if (!navigator.locks) return Promise.resolve(() => {});
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(MAKER_LOCK, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        // Held until the returned promise settles, i.e. until the caller calls release.
        return new Promise((release) => resolve(() => release(undefined)));
      })
      .catch(reject);
  });
}

/**
 * Put the offload wheel's files into site-packages: before a snapshot is made (its modules are
 * then imported and live in the heap), and after every restore, because the file system is not in
 * the snapshot and tracebacks read the tasks' source lines from it. Checked against the lockfile's
 * sha256 as loadPackage would.
 * @param {PyodideAPI} pyodide
 * @param {Lockfile} lockfile
 * @param {string} wheelsURL  the folder the lockfile's file names are relative to
 */
export async function installWheel(pyodide, lockfile, wheelsURL) {
  const wheel = lockfile.packages.offload;
  if (!wheel) throw new SnapshotError("the lockfile lists no offload wheel");
  const response = await fetch(new URL(wheel.file_name, wheelsURL));
  if (!response.ok) throw new Error(`fetching ${wheel.file_name} failed: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  const digest = await sha256(bytes);
  if (digest !== wheel.sha256) {
    throw new Error(`${wheel.file_name} does not match the lockfile (sha256 ${digest})`);
  }
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  pyodide.unpackArchive(bytes, "wheel", { extractDir: sitePackages });
}

/**
 * @param {ArrayBuffer | Uint8Array<ArrayBuffer>} bytes
 * @returns {Promise<string>} the SHA-256 digest in hex
 */
async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** @param {unknown} error */
export function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
