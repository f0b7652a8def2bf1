// The service worker's storage check (web/offline/storage-space.js) in Node: an engine without the
// Storage API, or without an estimate, installs anyway.

import assert from "node:assert/strict";
import { test } from "node:test";

import { freeSpace } from "../../web/offline/storage-space.js";

test("free space is the quota left when the browser gives an estimate", async () => {
  assert.equal(await freeSpace({ estimate: async () => ({ quota: 1000, usage: 300 }) }), 700);
});

test("free space is unknown without navigator.storage (WebKit's MiniBrowser)", async () => {
  assert.equal(await freeSpace(undefined), null);
});

test("free space is unknown without estimate()", async () => {
  assert.equal(await freeSpace({}), null);
});

test("free space is unknown when the estimate rejects or leaves out the quota", async () => {
  assert.equal(
    await freeSpace({
      estimate: async () => {
        throw new DOMException("storage is off", "UnknownError");
      },
    }),
    null,
  );
  assert.equal(await freeSpace({ estimate: async () => ({ usage: 10 }) }), null);
});
