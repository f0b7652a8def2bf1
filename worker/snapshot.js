// Memory snapshots of a booted interpreter: made once by the first worker that boots from scratch
// in this browser, kept in the origin private file system, restored by every later worker (the
// pool's other workers, the next visit) in a fraction of a normal boot. docs/startup.md says why it is made here and not
// at build time, and what a restore must redo (the wheel's files, the random state).
//
// Pyodide's snapshot API is private (`_makeSnapshot`, `_loadSnapshot`, `makeMemorySnapshot`): every
// step here may fail on another Pyodide, and boot.js falls back to a normal boot when one does.
// Uses only what both a worker and a window have (navigator.storage, crypto.subtle,
// navigator.locks); a worker reads the file synchronously, a window (the tests) as a File.

/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */

/** @typedef {import("pyodide").Lockfile} Lockfile */

/**
 * Why a stored snapshot was not used; boot.js turns it into the `ready` note.
 */
export class SnapshotError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "SnapshotError";
  }
}

// One file: a new build's snapshot replaces the old one, so nothing accumulates. It holds a header
// (MAGIC, the length of the JSON that follows, the JSON: build key, sha256, size) and the heap.
// The origin private file system, not Cache Storage: a worker reads it synchronously, in one piece,
// where Cache Storage hands the body over in pieces on the worker's event loop, which Pyodide's
// start-up holds (docs/startup.md has the measurements).
export const FILE_NAME = "offload-snapshot";
// What went wrong the last time a snapshot could not be stored (a quota, say), so the next boot
// can say why it had none.
const FAILURE_FILE = "offload-snapshot-failure.txt";
const MAGIC = new TextEncoder().encode("offload\u{1}");
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
 * What the file's header says about the heap in it.
 * @typedef {{build: string, sha256: string, size: number}} SnapshotMeta
 */

/**
 * A stored snapshot, read: its heap is not checked yet, `checked` says when it is.
 * @typedef {object} StoredSnapshot
 * @property {string} build  the key it was made under (see snapshotKey)
 * @property {Uint8Array} heap  the bytes, for Pyodide to restore only once `checked` resolved
 * @property {Promise<void>} checked  rejects with a SnapshotError when the heap is corrupt
 * @property {ReadVia} via  how the file was read
 */

/**
 * How the file was read: "sync", through a read-only sync access handle (Chromium 121+, several
 * workers at once); "file", as a File, where the engine has no sync handles in that context or
 * does not honour their read-only mode (Firefox opens an exclusive one, so a second reader would
 * be locked out).
 * @typedef {"sync" | "file"} ReadVia
 */

/** @typedef {{mode?: string, getSize(): number, read(into: Uint8Array, options: {at: number}): number, close(): void}} SyncAccessHandle */

/** @returns {Promise<FileSystemDirectoryHandle>} */
const root = () => navigator.storage.getDirectory();

/**
 * The file's bytes and how they were read, or null when there is none: synchronously where the
 * engine shares read-only sync handles, otherwise as a File (which any number of readers may do).
 * @param {string} name
 * @returns {Promise<{bytes: Uint8Array, via: ReadVia} | null>}
 */
async function readFile(name) {
  /** @type {FileSystemFileHandle} */
  let file;
  try {
    file = await (await root()).getFileHandle(name);
  } catch (error) {
    if (error instanceof DOMException && error.name === "NotFoundError") return null;
    throw error;
  }
  // Read-only handles may be open in several workers at once (the pool's workers boot together).
  // Declared here: the window's type library (the tests, the page) has no sync handles.
  /** @type {{createSyncAccessHandle?: (options: {mode: string}) => Promise<SyncAccessHandle>}} */
  const syncable = /** @type {any} */ (file);
  const open = syncable.createSyncAccessHandle;
  const asFile = async () => ({
    bytes: new Uint8Array(await (await file.getFile()).arrayBuffer()),
    via: /** @type {const} */ ("file"),
  });
  if (typeof open !== "function") return asFile();
  /** @type {SyncAccessHandle} */
  let handle;
  try {
    handle = await open.call(file, { mode: "read-only" });
  } catch (error) {
    if (!(error instanceof DOMException && error.name === "NoModificationAllowedError")) throw error;
    // Either a writable stream holds the file (being written: the File is then the empty new
    // file, which readStored takes for "none yet") or, where the engine ignores the read-only
    // mode, another reader holds an exclusive handle: a File read is not locked out by it.
    try {
      return await asFile();
    } catch (fileError) {
      if (fileError instanceof DOMException && fileError.name === "NoModificationAllowedError") return null;
      throw fileError;
    }
  }
  if (handle.mode !== "read-only") {
    // The engine ignored the mode (Firefox): this handle locks every other reader out. Let go at
    // once and read as a File, as the others will.
    handle.close();
    return asFile();
  }
  try {
    const bytes = new Uint8Array(handle.getSize());
    handle.read(bytes, { at: 0 });
    return { bytes, via: "sync" };
  } finally {
    handle.close();
  }
}

/**
 * Replace the file with `parts`, whole or not at all (a writable stream swaps the file on close).
 * @param {string} name
 * @param {BlobPart[]} parts
 */
async function writeFile(name, parts) {
  const writable = await (await (await root()).getFileHandle(name, { create: true })).createWritable();
  try {
    await writable.write(new Blob(parts));
    await writable.close();
  } catch (error) {
    await writable.abort().catch(() => {});
    throw error;
  }
}

/** @param {string} name */
async function removeFile(name) {
  try {
    await (await root()).removeEntry(name);
  } catch (error) {
    if (!(error instanceof DOMException && error.name === "NotFoundError")) throw error;
  }
}

/**
 * The stored snapshot file as it is: its header and its heap, or null when there is none (or it
 * is still being written). For the boot and for tests that inspect or damage it.
 * @returns {Promise<{meta: SnapshotMeta, heap: Uint8Array, via: ReadVia} | null>}
 * @throws {SnapshotError} the file's header cannot be read
 */
export async function readStored() {
  const read = await readFile(FILE_NAME);
  // Empty: created by a writer whose stream has not closed yet (the file is swapped in on close).
  if (!read || read.bytes.length === 0) return null;
  const { bytes, via } = read;
  const start = MAGIC.length + 4;
  if (bytes.length < start || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new SnapshotError("the stored snapshot has no header (it is not a snapshot file)");
  }
  const length = new DataView(bytes.buffer).getUint32(MAGIC.length, true);
  /** @type {SnapshotMeta} */
  let meta;
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + length)));
  } catch {
    throw new SnapshotError("the stored snapshot's header is corrupt");
  }
  return { meta, heap: bytes.subarray(start + length), via };
}

/**
 * Write a snapshot file: `heap` under the header `meta`, as stored (no check).
 * @param {SnapshotMeta} meta
 * @param {Uint8Array<ArrayBuffer>} heap
 */
export async function writeStored(meta, heap) {
  // Padded with spaces (which JSON allows) so the heap starts at a multiple of 64 bytes: Pyodide
  // reads its header through a Uint32Array on the same buffer, which must be aligned.
  const encoded = new TextEncoder().encode(JSON.stringify(meta));
  const json = new Uint8Array(encoded.length + ((64 - ((MAGIC.length + 4 + encoded.length) % 64)) % 64));
  json.fill(0x20).set(encoded);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, json.length, true);
  await writeFile(FILE_NAME, [MAGIC, length, json, heap]);
}

/**
 * The stored snapshot, read at once (before the caller knows this build's key, which needs the
 * lockfile): null when there is none. Its digest is checked meanwhile, off this thread; check its
 * build with `checkBuild` before use.
 * @returns {Promise<StoredSnapshot | null>}
 */
export async function openSnapshot() {
  const stored = await readStored();
  if (!stored) return null;
  const { meta, heap, via } = stored;
  const checked = sha256(heap).then((digest) => {
    if (digest !== meta.sha256 || heap.length !== meta.size) {
      throw new SnapshotError(`the stored snapshot is corrupt (sha256 ${digest}, stored ${meta.sha256})`);
    }
  });
  checked.catch(() => {}); // awaited later; a rejection there is the one that counts
  return { build: meta.build, heap, checked, via };
}

/**
 * @param {StoredSnapshot} stored
 * @param {string} key  this build's (snapshotKey)
 * @throws {SnapshotError} the stored snapshot belongs to another build
 */
export function checkBuild(stored, key) {
  if (stored.build !== key) {
    throw new SnapshotError(`the stored snapshot was made for another build (${stored.build}), not ${key}`);
  }
}

/**
 * Keep `snapshot` for later workers; on failure, remember why (for the next boot's note).
 * @param {string} key
 * @param {Uint8Array} snapshot
 * @returns {Promise<void>}
 */
export async function storeSnapshot(key, snapshot) {
  try {
    if (snapshot.byteLength > MAX_SNAPSHOT_BYTES) {
      throw new SnapshotError(`the heap grew to ${snapshot.byteLength} bytes, more than Pyodide can restore`);
    }
    const heap = /** @type {Uint8Array<ArrayBuffer>} */ (snapshot);
    await writeStored({ build: key, sha256: await sha256(heap), size: heap.length }, heap);
    await removeFile(FAILURE_FILE);
  } catch (error) {
    await dropSnapshot().catch(() => {});
    await writeFile(FAILURE_FILE, [describe(error)]).catch(() => {});
    throw error;
  }
}

/** Whether a snapshot is stored (the maker stores it after its `ready`). */
export async function hasSnapshot() {
  try {
    const file = await (await root()).getFileHandle(FILE_NAME);
    return (await file.getFile()).size > 0; // empty until its writer's stream closes
  } catch {
    return false;
  }
}

/** Forget the stored snapshot (it failed to restore); the next boot from scratch makes another. */
export async function dropSnapshot() {
  await removeFile(FILE_NAME);
}

/** Forget the stored snapshot and any record of a failed store. */
export async function clearSnapshots() {
  await removeFile(FILE_NAME);
  await removeFile(FAILURE_FILE);
}

/**
 * Why the last snapshot could not be stored, or null.
 * @returns {Promise<string | null>}
 */
export async function lastStoreFailure() {
  const read = await readFile(FAILURE_FILE);
  return read ? new TextDecoder().decode(read.bytes) : null;
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
 * The offload wheel's bytes, checked against the lockfile's sha256 as loadPackage would. Fetched
 * while the runtime loads: `unpackWheel` needs them only once Python runs.
 * @param {Lockfile} lockfile
 * @param {string} wheelsURL  the folder the lockfile's file names are relative to
 * @returns {Promise<ArrayBuffer>}
 */
export async function fetchWheel(lockfile, wheelsURL) {
  const wheel = lockfile.packages.offload;
  if (!wheel) throw new SnapshotError("the lockfile lists no offload wheel");
  const response = await fetch(new URL(wheel.file_name, wheelsURL));
  if (!response.ok) throw new Error(`fetching ${wheel.file_name} failed: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  const digest = await sha256(bytes);
  if (digest !== wheel.sha256) {
    throw new Error(`${wheel.file_name} does not match the lockfile (sha256 ${digest})`);
  }
  return bytes;
}

/**
 * Put the offload wheel's files into site-packages: before a snapshot is made (its modules are
 * then imported and live in the heap), and after every restore, because the file system is not in
 * the snapshot and tracebacks read the tasks' source lines from it.
 * @param {PyodideAPI} pyodide
 * @param {ArrayBuffer} wheel  from fetchWheel
 */
export function unpackWheel(pyodide, wheel) {
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  pyodide.unpackArchive(wheel, "wheel", { extractDir: sitePackages });
}

/**
 * @param {ArrayBuffer | Uint8Array} bytes
 * @returns {Promise<string>} the SHA-256 digest in hex
 */
async function sha256(bytes) {
  const view = /** @type {Uint8Array<ArrayBuffer>} */ (ArrayBuffer.isView(bytes) ? bytes : new Uint8Array(bytes));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", view));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** @param {unknown} error */
export function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
