// This build as the service worker sees it: its hash, its cache, its scope (the site's root) and
// the URLs every part of the worker derives from them, named once here.

import { cacheName } from "./protocol.js";

// What makes the page cross-origin isolated and locked down. Every file is stored only with the
// page's own values of these (as the server sent them, so server/headers.py stays their one
// definition; see checkPolicy in precache.js): a worker script or the wasm served without them
// would break COEP, and the page would lose crossOriginIsolated offline. Checked when precaching,
// not added per request, because the fetch handler hands out the cached Response itself.
export const POLICY_HEADERS = [
  "Cross-Origin-Opener-Policy",
  "Cross-Origin-Embedder-Policy",
  "Cross-Origin-Resource-Policy",
  "Content-Security-Policy",
  "X-Content-Type-Options",
];

/**
 * build-info.json as build.py writes it: the build's hash and each precached file's URL (relative
 * to the site's root), size and sha256.
 * @typedef {{url: string, size: number, sha256: string}} ManifestEntry
 * @typedef {{hash: string, precache: ManifestEntry[]}} BuildInfo
 */

/**
 * @typedef {object} Site
 * @property {string} hash  the build's hash (build.py stamps it into service-worker.js)
 * @property {string} cache  the Cache Storage cache holding this build's files
 * @property {URL} scope  the site's root: the worker's registration scope
 * @property {string} buildInfo  build-info.json: the hash and the precache manifest
 * @property {string} index  the page (web/index.html), whose headers every stored file must share
 * @property {string} home  where the site's root sends a navigation (the page's folder)
 * @property {string[]} neverCached  path prefixes always left to the network: live data and the socket
 */

/**
 * @param {string} hash
 * @param {URL} scope
 * @returns {Site}
 */
export function siteFor(hash, scope) {
  return {
    hash,
    cache: cacheName(hash),
    scope,
    buildInfo: new URL("build-info.json", scope).href,
    index: new URL("web/index.html", scope).href,
    home: new URL("web/", scope).href,
    // A WebSocket never reaches a service worker, but saying so here keeps the rule in one place
    // should /ws ever be fetched.
    neverCached: [new URL("api/", scope).pathname, new URL("ws", scope).pathname],
  };
}
