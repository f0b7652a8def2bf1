// What the page says its context lacks (web/capabilities.js): detected from the global scope,
// never assumed; plain http off loopback, a secure page without isolation, and a full one.

import assert from "node:assert/strict";
import { test } from "node:test";
import { describeCapabilities, detectCapabilities, randomId } from "../../web/capabilities.js";

/** A window as plain http on a LAN address sees it: none of the secure-context features. */
const insecure = {
  isSecureContext: false,
  crossOriginIsolated: false,
  navigator: {},
  crypto: { getRandomValues() {} },
};

/** A cross-origin isolated https page. */
const isolated = {
  isSecureContext: true,
  crossOriginIsolated: true,
  SharedArrayBuffer,
  crypto: { subtle: { digest() {} }, randomUUID() {} },
  navigator: { storage: { getDirectory() {} }, serviceWorker: {}, locks: { request() {} } },
};

test("plain http off loopback has none of the secure-context features and says why", () => {
  const found = detectCapabilities(insecure);
  assert.deepEqual(found, {
    secureContext: false,
    crossOriginIsolated: false,
    sharedMemory: false,
    digest: false,
    opfs: false,
    serviceWorker: false,
    webLocks: false,
    randomUUID: false,
  });
  const said = describeCapabilities(found);
  assert.equal(said?.state, "insecure");
  assert.match(
    said?.text ?? "",
    /Not a secure context.*Cancel restarts the worker, and input\(\) and offline use are off/,
  );
});

test("a secure page without isolation blames the headers, not the context", () => {
  const said = describeCapabilities(detectCapabilities({ ...isolated, crossOriginIsolated: false }));
  assert.equal(said?.state, "not-isolated");
  assert.match(said?.text ?? "", /not cross-origin isolated/);
  assert.doesNotMatch(said?.text ?? "", /secure context/);
});

test("an isolated https page lacks nothing and the page says nothing", () => {
  const found = detectCapabilities(isolated);
  assert.ok(Object.values(found).every(Boolean));
  assert.equal(describeCapabilities(found), null);
});

test("message ids are version-4 UUIDs with or without crypto.randomUUID", () => {
  const pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(randomId(), pattern);
  const real = globalThis.crypto.randomUUID;
  Object.defineProperty(globalThis.crypto, "randomUUID", { value: undefined, configurable: true });
  try {
    const ids = new Set(Array.from({ length: 100 }, randomId));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.match(id, pattern);
  } finally {
    Object.defineProperty(globalThis.crypto, "randomUUID", { value: real, configurable: true });
  }
});
