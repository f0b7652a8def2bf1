// How worker/snapshot.js reads the stored snapshot, in Node over a fake OPFS: shared read-only
// sync handles where the engine honours their mode (Chromium), a File read where it does not
// (Firefox opens an exclusive handle, and a second reader gets NoModificationAllowedError).

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { FILE_NAME, readStored, writeStored } from "../../worker/snapshot.js";

const locked = () => new DOMException("locked", "NoModificationAllowedError");

/**
 * A one-directory OPFS whose sync handles behave as `engine` says.
 * @param {{mode?: string, holder?: boolean}} engine  `mode`: what an opened handle reports;
 *   `holder`: another reader holds an exclusive handle, so opening one throws
 */
function fakeStorage(engine) {
  /** @type {Map<string, Blob>} */
  const files = new Map();
  const opened = { sync: 0, closed: 0 };
  const fileHandle = (/** @type {string} */ name) => ({
    getFile: async () => files.get(name) ?? new Blob([]),
    createWritable: async () => {
      /** @type {Blob} */
      let written = new Blob([]);
      return {
        write: async (/** @type {Blob} */ blob) => {
          written = blob;
        },
        close: async () => {
          files.set(name, written);
        },
        abort: async () => {},
      };
    },
    createSyncAccessHandle: async () => {
      if (engine.holder) throw locked();
      opened.sync++;
      const bytes = new Uint8Array(await (files.get(name) ?? new Blob([])).arrayBuffer());
      return {
        mode: engine.mode,
        getSize: () => bytes.length,
        read: (/** @type {Uint8Array} */ into) => {
          into.set(bytes);
          return bytes.length;
        },
        close: () => {
          opened.closed++;
        },
      };
    },
  });
  const directory = {
    getFileHandle: async (/** @type {string} */ name, /** @type {{create?: boolean}} */ options = {}) => {
      if (!files.has(name) && !options.create) throw new DOMException("none", "NotFoundError");
      if (!files.has(name)) files.set(name, new Blob([]));
      return fileHandle(name);
    },
  };
  Object.defineProperty(globalThis, "navigator", {
    value: { storage: { getDirectory: async () => directory } },
    configurable: true,
  });
  return opened;
}

afterEach(() => {
  Reflect.deleteProperty(globalThis, "navigator");
});

const META = { build: "test build", sha256: "0", size: 3 };
const HEAP = new Uint8Array([1, 2, 3]);

test("where read-only sync handles are honoured, the snapshot is read through one", async () => {
  const opened = fakeStorage({ mode: "read-only" });
  await writeStored(META, HEAP);
  const stored = await readStored();
  assert.equal(stored?.via, "sync");
  assert.deepEqual([...(stored?.heap ?? [])], [1, 2, 3]);
  assert.deepEqual(opened, { sync: 1, closed: 1 });
});

test("where the read-only mode is ignored, the handle is let go and the file read as a File", async () => {
  const opened = fakeStorage({});
  await writeStored(META, HEAP);
  const stored = await readStored();
  assert.equal(stored?.via, "file");
  assert.deepEqual([...(stored?.heap ?? [])], [1, 2, 3]);
  assert.deepEqual(opened, { sync: 1, closed: 1 });
});

test("a reader locked out by another reader's exclusive handle still reads the snapshot", async () => {
  fakeStorage({ holder: true });
  await writeStored(META, HEAP);
  const stored = await readStored();
  assert.equal(stored?.via, "file");
  assert.equal(stored?.meta.build, "test build");
});

test("a snapshot still being written (an empty new file, locked) is none yet", async () => {
  fakeStorage({ holder: true });
  await (await navigator.storage.getDirectory()).getFileHandle(FILE_NAME, { create: true });
  assert.equal(await readStored(), null);
});
