// The service worker's install: fetch every file of the build, check each against the manifest's
// size and sha256 and the page's policy headers, and store them all under this build's cache, or
// store nothing and say why. Also registers the static routes that let the browser answer the
// page's own requests from that cache without running the worker.

import { needsIsolation } from "./isolation.js";
import { POLICY_HEADERS } from "./site.js";
import { freeSpace } from "./storage-space.js";

/** @typedef {import("./site.js").Site} Site */
/** @typedef {import("./site.js").ManifestEntry} ManifestEntry */
/** @typedef {import("./site.js").BuildInfo} BuildInfo */
/** @typedef {import("./telemetry.js").Telemetry} Telemetry */

/** A precache failure a person can act on; its message is shown on the page. */
class PrecacheError extends Error {
  name = "PrecacheError";
}

/**
 * The install event's work: the static routes, and the precache (everything or nothing).
 * @param {ExtendableEvent} event  the install event
 * @param {Site} site
 * @param {Telemetry} telemetry
 * @param {() => Promise<void>} skipWaiting
 */
export function install(event, site, telemetry, skipWaiting) {
  event.waitUntil(addRoutes(event, site));
  event.waitUntil(
    precache(site, telemetry).then(
      // Take over at once: a reload, which keeps the old page until the new one loads, would
      // otherwise never let a waiting worker activate. Pages still showing the old build are told
      // (controllerchange) and asked to reload.
      () => skipWaiting(),
      async (/** @type {unknown} */ error) => {
        // Nothing half-stored survives: the cache is only used once activated, and a failed
        // install never activates; deleting it also returns the space at once.
        await caches.delete(site.cache);
        const reason = error instanceof PrecacheError ? error.message : `${String(error)}`;
        telemetry.announce({ type: "precache_failed", hash: site.hash, reason });
        throw error; // the install fails: the browser discards this worker, pages use the network
      },
    ),
  );
}

/**
 * @typedef {{urlPattern?: {pathname: string}, requestMode?: RequestMode}} RouterCondition
 * @typedef {"network" | "fetch-event" | {cacheName: string}} RouterSource
 * @typedef {{condition: RouterCondition, source: RouterSource}} RouterRule
 */

/**
 * Static routes (Chromium 123+): the browser answers the page's own requests for this build's
 * files from its cache, and /api/ from the network, without running this worker's JavaScript;
 * navigations still come to the fetch handler (the root redirects, a folder or a query maps to
 * index.html there). A file missing from the cache goes to the network. Where the API is missing,
 * or refuses the rules, the fetch handler answers everything.
 *
 * Chromium does not apply these routes to the requests of the page's dedicated and shared workers
 * (their resource timing shows no router evaluation), so those still reach the fetch handler
 * (docs/offline.md).
 * @param {ExtendableEvent} event  the install event
 * @param {Site} site
 */
async function addRoutes(event, site) {
  const install = /** @type {{addRoutes?: (rules: RouterRule[]) => Promise<void>}} */ (/** @type {unknown} */ (event));
  if (install.addRoutes === undefined) return;
  // A static host's files need the isolation headers added (isolation.js), which only the fetch
  // handler can do: no routes around it there.
  const page = await fetch(site.index, { method: "HEAD", cache: "no-store" }).catch(() => null);
  if (page === null || needsIsolation(page)) return;
  /** @type {RouterRule[]} */
  const rules = [
    ...site.neverCached.map((prefix) => ({
      condition: { urlPattern: { pathname: `${prefix}*` } },
      source: /** @type {const} */ ("network"),
    })),
    { condition: { requestMode: "navigate" }, source: "fetch-event" },
    { condition: { urlPattern: { pathname: `${site.scope.pathname}*` } }, source: { cacheName: site.cache } },
  ];
  try {
    await install.addRoutes(rules);
  } catch {
    // E.g. an older rule syntax: the fetch handler serves every request then.
  }
}

/**
 * Fetch and verify every file of the build, then store them all under this build's cache.
 * @param {Site} site
 * @param {Telemetry} telemetry
 */
async function precache(site, telemetry) {
  const infoResponse = await fetchOrExplain(site, site.buildInfo);
  /** @type {BuildInfo} */
  const info = await infoResponse.clone().json();
  if (info.hash !== site.hash) {
    throw new PrecacheError(
      `the server now has build ${info.hash}, this service worker is for build ${site.hash}; ` +
        "reload the page to install the new one",
    );
  }
  const bytes = info.precache.reduce((sum, entry) => sum + entry.size, 0);
  const free = await freeSpace(navigator.storage);
  if (free !== null && free < bytes) {
    throw new PrecacheError(
      `the browser allows this site ${megabytes(free)} more storage, the runtime needs ` + `${megabytes(bytes)}`,
    );
  }
  // Download and check everything before storing anything: a missing or changed file stops the
  // install before a single entry is written.
  const responses = await Promise.all(info.precache.map((entry) => fetchVerified(site, entry)));
  const page = responses[info.precache.findIndex((entry) => new URL(entry.url, site.scope).href === site.index)];
  if (page === undefined) throw new PrecacheError("the build lists no web/index.html");
  for (const [index, response] of responses.entries()) checkPolicy(info.precache[index], response, page);
  await caches.delete(site.cache); // leftovers of an interrupted earlier attempt
  const cache = await caches.open(site.cache);
  try {
    await Promise.all(
      info.precache.map((entry, index) => cache.put(new URL(entry.url, site.scope).href, responses[index])),
    );
    await cache.put(site.buildInfo, infoResponse);
  } catch (error) {
    const name = error instanceof DOMException ? error.name : String(error);
    throw new PrecacheError(`the browser refused to store ${megabytes(bytes)} (${name})`);
  }
  telemetry.announce({ type: "precached", hash: site.hash, files: info.precache.length, bytes });
}

/**
 * One file of the manifest, checked against its size and sha256: the server's response itself,
 * body unread, to be stored as it is. Not a `new Response(body, ...)`: that has no URL, and the
 * Cache API keeps a response's URL, so every answer from the cache would be one Chromium keeps no
 * compiled code for (docs/offline.md).
 * @param {Site} site
 * @param {ManifestEntry} entry
 * @returns {Promise<Response>}
 */
async function fetchVerified(site, entry) {
  const url = new URL(entry.url, site.scope).href;
  // The HTTP cache's copy first, when it is fresh: revalidating it would give it a new response
  // time, and Chromium drops the compiled code it keeps for a response whose time has changed.
  // The checksum decides; a copy of another build is fetched again, revalidated.
  for (const mode of /** @type {const} */ (["default", "no-cache"])) {
    const response = await fetchOrExplain(site, url, mode);
    const body = await response.clone().arrayBuffer();
    const digest = hex(await crypto.subtle.digest("SHA-256", body));
    if (body.byteLength === entry.size && digest === entry.sha256) return response;
    await response.body?.cancel();
  }
  throw new PrecacheError(
    `${entry.url} on the server is not the one of build ${site.hash} ` +
      "(the site was rebuilt meanwhile); reload the page",
  );
}

/**
 * Refuse to store a file without the page's policy headers: served from the cache it would break
 * COEP (a worker script, the wasm) or the page's lockdown. The server sends them on every response
 * (server/headers.py), so this only fails for a server set up differently.
 * @param {ManifestEntry} entry
 * @param {Response} response
 * @param {Response} page  the response for web/index.html
 */
function checkPolicy(entry, response, page) {
  for (const name of POLICY_HEADERS) {
    if (response.headers.get(name) !== page.headers.get(name)) {
      throw new PrecacheError(`${entry.url} was served without the page's ${name} header`);
    }
  }
}

/**
 * GET `url` (by default revalidating any HTTP-cached copy); a missing file or a dead server is a
 * PrecacheError.
 * @param {Site} site
 * @param {string} url
 * @param {RequestCache} [mode]
 */
async function fetchOrExplain(site, url, mode = "no-cache") {
  const relative = url.startsWith(site.scope.href) ? url.slice(site.scope.href.length) || "/" : url;
  /** @type {Response} */
  let response;
  try {
    response = await fetch(url, { cache: mode });
  } catch (error) {
    throw new PrecacheError(`could not reach the server for ${relative} (${String(error)})`);
  }
  if (!response.ok) throw new PrecacheError(`${relative} answered HTTP ${response.status}`);
  return response;
}

/** @param {ArrayBuffer} buffer */
function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** @param {number} bytes */
function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
