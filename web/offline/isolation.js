// The service worker's half of the coi-serviceworker pattern: a static host (a school web space,
// GitHub Pages) sends no COOP/COEP, so the worker adds them to what it serves from that host,
// which makes the page cross-origin isolated from the first load it controls (the page reloads
// once for that: isolation-reload.js). The Offload server decides its own headers (it also serves
// without them on purpose, `--no-isolation`), so its responses are handed out untouched.

/** The headers that make a page cross-origin isolated, as server/headers.py sends them. */
export const ISOLATION_HEADERS = Object.freeze({
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
});

/** The Offload server names itself in `Server` (server/headers.py SERVER_NAME). */
const OFFLOAD_SERVER = "Offload";

/**
 * Whether `response` came from a host that leaves isolation to this worker: a same-origin answer
 * with no COEP, from a server other than Offload's. (Behind a proxy that hides `Server`, Offload
 * still sends COEP itself.)
 * @param {Response} response
 * @returns {boolean}
 */
export function needsIsolation(response) {
  return (
    response.type !== "opaque" &&
    response.type !== "opaqueredirect" &&
    response.status !== 0 &&
    !response.headers.has("Cross-Origin-Embedder-Policy") &&
    response.headers.get("Server") !== OFFLOAD_SERVER
  );
}

/**
 * `response` with the isolation headers added. A new Response: Chromium keeps no compiled code
 * for it (docs/offline.md), a cost paid only on a static host.
 * @param {Response} response
 * @returns {Response}
 */
export function withIsolation(response) {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  const { status, statusText } = response;
  return new Response(response.body, { status, statusText, headers });
}
