// What the page and the service worker say to each other, defined once, and the names both use.
// Imported by the service worker's modules and by panel.js; touches no global of either scope.
//
// Page -> service worker (`controller.postMessage`):  StatusRequest
// Service worker -> that page (`client.postMessage`):  StatusReply
// Service worker -> every page (BroadcastChannel CHANNEL): Intercepted, Precached, PrecacheFailed

/** The service worker's caches start with this (the rest is the build's hash); other caches of the
 * origin are not its to delete. */
export const CACHE_PREFIX = "offload-site-";
/** The BroadcastChannel the service worker announces on. */
export const CHANNEL = "offload-service-worker";

/**
 * The cache a build's files live in.
 * @param {string} buildHash
 * @returns {string}
 */
export function cacheName(buildHash) {
  return `${CACHE_PREFIX}${buildHash}`;
}

/**
 * Where the service worker got a response from: its cache, the network (a file it does not
 * precache, e.g. /api/, which it never caches), or nowhere (the network failed).
 * "http-cache-direct" is a request it left to the browser, whose HTTP cache holds this build's copy
 * fresh (http-cache.js): it took no time of the worker's, and how long the browser took is not
 * known to it. "route-cache" and "route-network" are requests its static routes sent to its cache
 * or the network without running its fetch handler: the page reads those from its own resource
 * timing (panel.js), the service worker never sees them.
 * @typedef {"cache" | "http-cache-direct" | "network" | "failed" | "route-cache" | "route-network"} Source
 */

/**
 * One request the service worker answered; `seq` counts up within one run of the worker.
 * @typedef {{seq: number, url: string, source: Source, status: number, ms: number, time: number,
 *            navigation: boolean, clientId: string}} InterceptedEntry
 */

/**
 * @typedef {{type: "status"}} StatusRequest
 * @typedef {{files: number, bytes: number}} CacheSummary
 * @typedef {{type: "status", hash: string, cache: CacheSummary | null,
 *            navigation: InterceptedEntry | null, log: InterceptedEntry[]}} StatusReply
 *   `navigation` is how the asking page itself was loaded, when the worker still remembers it.
 * @typedef {{type: "intercepted", entry: InterceptedEntry}} Intercepted
 * @typedef {{type: "precached", hash: string, files: number, bytes: number}} Precached
 * @typedef {{type: "precache_failed", hash: string, reason: string}} PrecacheFailed
 * @typedef {StatusReply | Intercepted | Precached | PrecacheFailed} WorkerMessage
 */
