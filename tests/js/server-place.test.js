// Where the page's server is (web/socket/server-place.js) and whether one answers; and when the
// page reloads itself to become cross-origin isolated (web/offline/isolation-reload.js).

import assert from "node:assert/strict";
import { test } from "node:test";
import { isolationStep } from "../../web/offline/isolation-reload.js";
import { SERVED_BY_OFFLOAD, probeServer, serverPlace } from "../../web/socket/server-place.js";

test("the page's own origin, or the server given with ?server=", () => {
  assert.deepEqual(serverPlace("https://class.test:8443/web/"), {
    socketUrl: "wss://class.test:8443/ws",
    apiBase: "https://class.test:8443/",
    given: null,
  });
  assert.deepEqual(serverPlace("http://school.example/web/?server=wss://class.example.org/ws"), {
    socketUrl: "wss://class.example.org/ws",
    apiBase: "https://class.example.org/",
    given: "wss://class.example.org/ws",
  });
  assert.throws(() => serverPlace("http://x/web/?server=https://y/ws"), /must start with ws:\/\/ or wss:\/\//);
  assert.throws(() => serverPlace("http://x/web/?server=nonsense"), /is not a URL/);
});

/**
 * A fetch answering build-info.json with or without Offload's header, and /api/results.
 * @param {boolean} offload
 * @returns {typeof fetch}
 */
function host(offload) {
  return /** @type {typeof fetch} */ (
    async (/** @type {string} */ url) =>
      url.endsWith("build-info.json")
        ? new Response("{}", { headers: offload ? { [SERVED_BY_OFFLOAD]: "1" } : {} })
        : new Response(JSON.stringify([{ id: "r" }]))
  );
}

test("a static host has no server; Offload's answers with its header; a network error keeps trying", async () => {
  const own = serverPlace("http://127.0.0.1:8000/web/");
  assert.deepEqual(await probeServer(own, host(false)), { present: false, results: [] });
  assert.deepEqual(await probeServer(own, host(true)), { present: true, results: [{ id: "r" }] });
  const offline = /** @type {typeof fetch} */ (() => Promise.reject(new TypeError("Failed to fetch")));
  assert.deepEqual(await probeServer(own, offline), { present: true, results: [] });
});

test("the page reloads once, only where the service worker supplies isolation", () => {
  const seen = { isolated: false, serviceWorker: true, coep: "require-corp", reloaded: false };
  assert.equal(isolationStep(seen), "reload");
  assert.equal(isolationStep({ ...seen, reloaded: true }), "gave-up");
  assert.equal(isolationStep({ ...seen, coep: null }), "server-decides"); // --no-isolation
  assert.equal(isolationStep({ ...seen, serviceWorker: false }), "no-worker");
  assert.equal(isolationStep({ ...seen, isolated: true }), "isolated");
});
