// The service worker: precaches the built site (page, worker scripts, the Pyodide runtime, the
// wheels and their lockfile) under a cache named after the build's hash, and answers the site's
// requests from that cache, so a reload with the server down still boots Python. It carries the
// isolation headers on what it serves (else the page would lose crossOriginIsolated offline and
// with it Cancel), never caches /api/ (live data) and never sees /ws (WebSockets bypass it).
// What it says to pages is defined in offline-protocol.js.

import { freshUntil } from "./http-freshness.js";
import { CACHE_PREFIX, CHANNEL, cacheName } from "./offline-protocol.js";

/** @typedef {import("./offline-protocol.js").InterceptedEntry} InterceptedEntry */
/** @typedef {import("./offline-protocol.js").Source} Source */
/** @typedef {import("./offline-protocol.js").WorkerMessage} WorkerMessage */
/** @typedef {{url: string, size: number, sha256: string}} ManifestEntry */
/** @typedef {{hash: string, precache: ManifestEntry[]}} BuildInfo */

// Stamped by build.py (write_precache_manifest) with the hash of the built site: a new build
// changes this line, the browser sees new bytes and installs the new worker with a new cache.
const BUILD_HASH = "unbuilt";

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const CACHE = cacheName(BUILD_HASH);
const SCOPE = new URL(sw.registration.scope);
const BUILD_INFO = new URL("build-info.json", SCOPE).href;
const INDEX = new URL("index.html", SCOPE).href;
// Live data and the socket: always the network. (A WebSocket never reaches a service worker, but
// saying so here keeps the rule in one place should /ws ever be fetched.)
const NEVER_CACHED = [new URL("api/", SCOPE).pathname, new URL("ws", SCOPE).pathname];
// What makes the page cross-origin isolated and locked down. Every file is stored only with the
// page's own values of these (as the server sent them, so server/headers.py stays their one
// definition; see checkPolicy): a worker script or the wasm served without them would break COEP,
// and the page would lose crossOriginIsolated offline. Checked when precaching, not added per
// request, because the fetch handler hands out the cached Response itself (see fromCache).
const POLICY_HEADERS = [
  "Cross-Origin-Opener-Policy",
  "Cross-Origin-Embedder-Policy",
  "Cross-Origin-Resource-Policy",
  "Content-Security-Policy",
  "X-Content-Type-Options",
];
const MAX_LOG = 200;
// What V8 compiles, and keeps compiled only for HTTP-cache responses (see fromHttpCache).
const CODE_TYPES = ["application/wasm", "text/javascript"];
// Below this, compiled code saves less than the detour to the HTTP cache costs (see isSmall).
const SMALL_CODE_BYTES = 100_000;

const channel = new BroadcastChannel(CHANNEL);
/** @type {InterceptedEntry[]} Recent answers, oldest first (lost when the browser stops us). */
const log = [];
let sequence = 0;

/** @param {WorkerMessage} message */
function announce(message) {
  channel.postMessage(message);
}

// --- install: everything or nothing ---------------------------------------------------------------

/** A precache failure a person can act on; its message is shown on the page. */
class PrecacheError extends Error {
  name = "PrecacheError";
}

sw.addEventListener("install", (event) => {
  event.waitUntil(addRoutes(event));
  event.waitUntil(
    precache().then(
      // Take over at once: a reload, which keeps the old page until the new one loads, would
      // otherwise never let a waiting worker activate. Pages still showing the old build are told
      // (controllerchange) and asked to reload.
      () => sw.skipWaiting(),
      async (/** @type {unknown} */ error) => {
        // Nothing half-stored survives: the cache is only used once activated, and a failed
        // install never activates; deleting it also returns the space at once.
        await caches.delete(CACHE);
        const reason = error instanceof PrecacheError ? error.message : `${String(error)}`;
        announce({ type: "precache_failed", hash: BUILD_HASH, reason });
        throw error; // the install fails: the browser discards this worker, pages use the network
      },
    ),
  );
});

/**
 * @typedef {{urlPattern?: {pathname: string}, requestMode?: RequestMode}} RouterCondition
 * @typedef {"network" | "fetch-event" | {cacheName: string}} RouterSource
 * @typedef {{condition: RouterCondition, source: RouterSource}} RouterRule
 */

/**
 * Static routes (Chromium 123+): the browser answers the page's own requests for this build's
 * files from its cache, and /api/ from the network, without running this worker's JavaScript;
 * navigations still come to the fetch handler (a folder or a query maps to index.html there, see
 * fromCache). A file missing from the cache goes to the network. Where the API is missing, or
 * refuses the rules, the fetch handler answers everything as before.
 *
 * Why (docs/offline.md): each request through the fetch handler waits for this worker's thread,
 * a Cache Storage lookup and a message to the pages; a start makes ~45 requests from the page
 * alone, most of them ES modules imported in waves. Chromium does not apply these routes to the
 * requests of the page's dedicated and shared workers (their resource timing shows no router
 * evaluation), so those still reach the fetch handler.
 * @param {ExtendableEvent} event  the install event
 */
async function addRoutes(event) {
  const install = /** @type {{addRoutes?: (rules: RouterRule[]) => Promise<void>}} */ (/** @type {unknown} */ (event));
  if (install.addRoutes === undefined) return;
  /** @type {RouterRule[]} */
  const rules = [
    ...NEVER_CACHED.map((prefix) => ({
      condition: { urlPattern: { pathname: `${prefix}*` } },
      source: /** @type {const} */ ("network"),
    })),
    { condition: { requestMode: "navigate" }, source: "fetch-event" },
    { condition: { urlPattern: { pathname: `${SCOPE.pathname}*` } }, source: { cacheName: CACHE } },
  ];
  try {
    await install.addRoutes(rules);
  } catch {
    // E.g. an older rule syntax: the fetch handler below serves every request then.
  }
}

/** Fetch and verify every file of the build, then store them all under this build's cache. */
async function precache() {
  const infoResponse = await fetchOrExplain(BUILD_INFO);
  /** @type {BuildInfo} */
  const info = await infoResponse.clone().json();
  if (info.hash !== BUILD_HASH) {
    throw new PrecacheError(
      `the server now has build ${info.hash}, this service worker is for build ${BUILD_HASH}; ` +
        "reload the page to install the new one",
    );
  }
  const bytes = info.precache.reduce((sum, entry) => sum + entry.size, 0);
  const { quota, usage } = await navigator.storage.estimate();
  if (quota !== undefined && usage !== undefined && quota - usage < bytes) {
    throw new PrecacheError(
      `the browser allows this site ${megabytes(quota - usage)} more storage, the runtime needs ` +
        `${megabytes(bytes)}`,
    );
  }
  // Download and check everything before storing anything: a missing or changed file stops the
  // install before a single entry is written.
  const responses = await Promise.all(info.precache.map(fetchVerified));
  const page = responses[info.precache.findIndex((entry) => new URL(entry.url, SCOPE).href === INDEX)];
  if (page === undefined) throw new PrecacheError("the build lists no index.html");
  for (const [index, response] of responses.entries()) checkPolicy(info.precache[index], response, page);
  await caches.delete(CACHE); // leftovers of an interrupted earlier attempt
  const cache = await caches.open(CACHE);
  try {
    await Promise.all(info.precache.map((entry, index) => cache.put(new URL(entry.url, SCOPE).href, responses[index])));
    await cache.put(BUILD_INFO, infoResponse);
  } catch (error) {
    const name = error instanceof DOMException ? error.name : String(error);
    throw new PrecacheError(`the browser refused to store ${megabytes(bytes)} (${name})`);
  }
  announce({ type: "precached", hash: BUILD_HASH, files: info.precache.length, bytes });
}

/**
 * One file of the manifest, checked against its size and sha256: the server's response itself,
 * body unread, to be stored as it is. Not a `new Response(body, ...)`: that has no URL, and the
 * Cache API keeps a response's URL, so every answer from the cache would be one Chromium keeps no
 * compiled code for (docs/offline.md).
 * @param {ManifestEntry} entry
 * @returns {Promise<Response>}
 */
async function fetchVerified(entry) {
  const url = new URL(entry.url, SCOPE).href;
  // The HTTP cache's copy first, when it is fresh: revalidating it would give it a new response
  // time, and Chromium drops the compiled code it keeps for a response whose time has changed (see
  // fromHttpCache). The checksum decides; a copy of another build is fetched again, revalidated.
  for (const mode of /** @type {const} */ (["default", "no-cache"])) {
    const response = await fetchOrExplain(url, mode);
    const body = await response.clone().arrayBuffer();
    const digest = hex(await crypto.subtle.digest("SHA-256", body));
    if (body.byteLength === entry.size && digest === entry.sha256) return response;
    await response.body?.cancel();
  }
  throw new PrecacheError(
    `${entry.url} on the server is not the one of build ${BUILD_HASH} ` +
      "(the site was rebuilt meanwhile); reload the page",
  );
}

/**
 * Refuse to store a file without the page's policy headers: served from the cache it would break
 * COEP (a worker script, the wasm) or the page's lockdown. The server sends them on every response
 * (server/headers.py), so this only fails for a server set up differently.
 * @param {ManifestEntry} entry
 * @param {Response} response
 * @param {Response} page  the response for index.html
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
 * @param {string} url
 * @param {RequestCache} [mode]
 */
async function fetchOrExplain(url, mode = "no-cache") {
  /** @type {Response} */
  let response;
  try {
    response = await fetch(url, { cache: mode });
  } catch (error) {
    throw new PrecacheError(`could not reach the server for ${relative(url)} (${String(error)})`);
  }
  if (!response.ok) throw new PrecacheError(`${relative(url)} answered HTTP ${response.status}`);
  return response;
}

// --- activate: only this build's cache remains ---------------------------------------------------

/** Settles when activation is done; pages asking for status meanwhile wait for it. */
let activation = Promise.resolve();

sw.addEventListener("activate", (event) => {
  activation = (async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
    }
    // Control the page that registered us now, not from its next load on.
    await sw.clients.claim();
  })();
  event.waitUntil(activation);
});

// --- fetch: the cache first, the network for the rest ------------------------------------------------

sw.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== SCOPE.origin) return; // the browser's default
  if (event.request.mode === "navigate") checkFreshCode();
  else if (event.request.cache === "default" && freshInHttpCache(url)) {
    // Not answered: the browser fetches it itself and its HTTP cache answers (fresh, this build's
    // copy, with its compiled code), without the detour through this worker (see checkFreshCode).
    record(event, url, "http-cache-direct", 200, 0);
    return;
  }
  event.respondWith(answer(event, url));
});

/**
 * @param {FetchEvent} event
 * @param {URL} url
 * @returns {Promise<Response>}
 */
async function answer(event, url) {
  const started = performance.now();
  const neverCached = NEVER_CACHED.some((prefix) => url.pathname.startsWith(prefix));
  // A navigation (the page, not code) starts reading the stored headers for the requests that
  // follow, without waiting for them.
  const headers = storedCode();
  const code = neverCached || event.request.mode === "navigate" ? undefined : (await headers).get(url.href);
  if (code !== undefined) {
    const compiled = await fromHttpCache(url, code);
    if (compiled !== null) {
      record(event, url, "http-cache", compiled.status, performance.now() - started);
      return compiled;
    }
  }
  /** @type {Source} */
  let source = "cache";
  let response = neverCached ? null : await fromCache(url);
  if (response === null) {
    try {
      response = await fetch(event.request);
      source = "network";
    } catch (error) {
      record(event, url, "failed", 0, performance.now() - started);
      throw error; // the page sees the same network error it would without us
    }
  }
  record(event, url, source, response.status, performance.now() - started);
  return response;
}

/**
 * This build's copy of `url`, as stored; null when not cached.
 *
 * Handed out as the Cache API gives it, not re-wrapped in `new Response(...)` per request: the
 * headers it needs were stored with it (checkPolicy), and Chromium never keeps compiled code for a
 * synthetic Response or one whose URL is not the request's (blink's CachedMetadataSender::Create,
 * docs/offline.md). For the wasm and pyodide.asm.mjs even that is not enough: see fromHttpCache.
 * @param {URL} url
 * @returns {Promise<Response | null>}
 */
async function fromCache(url) {
  // The site's files do not depend on the query (`/?socket=direct` is the same page); a folder
  // means its index.html, as the server does.
  const key = url.pathname.endsWith("/") ? new URL("index.html", url).href : url.origin + url.pathname;
  // caches.match with a name, not caches.open: opening would re-create this build's cache after a
  // newer worker deleted it, and an old page's requests would keep an empty one alive.
  const cached = await caches.match(key, { cacheName: CACHE });
  if (cached === undefined) return null;
  if (cached.url === url.href) return cached;
  // Another URL's entry (`/` is index.html, a query is dropped): handed out as is, its URL would
  // become the document's or the module's own (import.meta.url). Code caching is off for it in
  // any case, so a copy under the requested URL costs nothing.
  const { status, statusText, headers } = cached;
  return new Response(cached.body, { status, statusText, headers });
}

/** @type {Promise<Map<string, Headers>> | undefined} */
let storedCodeHeaders;

/**
 * The stored headers of this build's scripts and wasm, by URL, read from the cache once per run of
 * this worker (one `matchAll`, bodies unread): they are all fromHttpCache needs to check the HTTP
 * cache's copy, so a script or the wasm served from there costs no Cache Storage lookup of its own.
 * Empty when the cache is gone; then every request takes the slower path through fromCache.
 * @returns {Promise<Map<string, Headers>>}
 */
function storedCode() {
  storedCodeHeaders ??= (async () => {
    // caches.has first: caches.open would re-create a cache a newer worker deleted (see fromCache).
    if (!(await caches.has(CACHE))) return new Map();
    const responses = await (await caches.open(CACHE)).matchAll();
    const worthIt = responses.filter((response) => isCode(response) && !isSmall(response));
    return new Map(worthIt.map((response) => [response.url, response.headers]));
  })().catch(() => new Map());
  return storedCodeHeaders;
}

/**
 * Whether compiled code is worth less than the HTTP-cache detour: a script of a few kilobytes (the
 * workers' own modules, `pyodide.mjs`) compiles in well under a millisecond, while each detour, a
 * request of its own through the network stack, cost ~10–40 ms under load, once per import wave.
 * These come from the cache directly; the wasm (9.6 MB) and `pyodide.asm.mjs` (1.25 MB) still take
 * the detour.
 * @param {Response} response
 */
function isSmall(response) {
  return Number(response.headers.get("Content-Length") ?? Number.POSITIVE_INFINITY) < SMALL_CODE_BYTES;
}

/** @param {Response} response */
function isCode(response) {
  const type = response.headers.get("Content-Type")?.split(";")[0].trim();
  return type !== undefined && CODE_TYPES.includes(type);
}

/**
 * The browser's HTTP-cached copy of a script or wasm file, when it is the very one this build
 * stored (same ETag and policy headers); null otherwise. Never touches the network
 * (`only-if-cached`).
 *
 * Chromium (156, measured with its V8.WasmCodeCaching and V8CodeCacheMetadata histograms) never
 * reuses compiled code for a response from Cache Storage: it stores the code under the URL in its
 * HTTP-side code cache, which it then does not consult for a Cache Storage response. So
 * pyodide.asm.wasm (9.6 MB) and every script would be compiled afresh at every start, where a
 * start without a service worker reuses the compiled code. An HTTP-cache response passed through
 * unchanged does get it (keyed by URL and response time). So code comes from the HTTP cache while
 * that holds this build's copy, and from Cache Storage (the copy that makes the page work
 * offline) when it does not. docs/offline.md has the numbers.
 * @param {URL} url
 * @param {Headers} stored  the headers of this build's copy
 * @returns {Promise<Response | null>}
 */
async function fromHttpCache(url, stored) {
  const tag = stored.get("ETag");
  if (tag === null) return null;
  /** @type {Response} */
  let response;
  try {
    response = await fetch(url.href, { cache: "only-if-cached", mode: "same-origin" });
  } catch {
    return null; // not in the HTTP cache
  }
  const same =
    response.ok &&
    response.headers.get("ETag") === tag &&
    POLICY_HEADERS.every((name) => response.headers.get(name) === stored.get(name));
  if (same) return response;
  await response.body?.cancel();
  return null;
}

/**
 * This build's big code files (as storedCode lists them) that the browser's HTTP cache holds fresh,
 * by URL: how long, in Date.now() time, its copy stays fresh. Filled anew at every navigation.
 * @type {Map<string, number>}
 */
const freshCode = new Map();
/** Which navigation's check may write freshCode (an older one's answer comes too late). */
let freshCheck = 0;
/**
 * How long before its expiry a fresh copy is no longer passed through: a boot takes seconds, and
 * the expiry is reckoned from the server's `Date` while the browser reckons from when the response
 * arrived, so this also absorbs a server clock that runs up to a few minutes ahead.
 */
const FRESH_MARGIN_MS = 5 * 60_000;

/**
 * Find which of this build's big code files (the wasm, `pyodide.asm.mjs`) the HTTP cache holds
 * fresh, as a navigation starts: the workers' requests for them, a few hundred milliseconds
 * later, are then left to the browser (freshInHttpCache), which answers them from its HTTP cache
 * without contacting the server, offline too, and keeps its compiled code. Before, each such
 * request came here, and fromHttpCache fetched the same copy from here and handed it on: the
 * wasm's first byte reached the worker ~40 ms later, its last ~80 ms later (docs/offline.md).
 *
 * Only a copy that is this build's (the ETag and policy headers stored with it) and fresh for the
 * next few minutes passes through; anything else, and any request before this check is done, takes
 * the handler's path. Starting afresh at each navigation means a cleared or evicted HTTP cache is
 * seen by the next load, which then boots from Cache Storage.
 */
function checkFreshCode() {
  const check = ++freshCheck;
  freshCode.clear();
  (async () => {
    // Both files at once: the check races the workers' first requests for them.
    const checked = await Promise.all(
      [...(await storedCode())].map(
        async ([href, stored]) => /** @type {const} */ ([href, await httpCacheFreshUntil(new URL(href), stored)]),
      ),
    );
    if (check !== freshCheck) return;
    for (const [href, until] of checked) if (until !== null) freshCode.set(href, until);
  })().catch(() => {}); // a failed check leaves every request to the handler, as before
}

/** @param {URL} url */
function freshInHttpCache(url) {
  const until = freshCode.get(url.href);
  return until !== undefined && Date.now() + FRESH_MARGIN_MS < until;
}

/**
 * Until when (Date.now() time) the HTTP cache's copy of `url` stays fresh, if it is this build's
 * copy; null otherwise.
 * @param {URL} url
 * @param {Headers} stored
 * @returns {Promise<number | null>}
 */
async function httpCacheFreshUntil(url, stored) {
  const response = await fromHttpCache(url, stored);
  if (response === null) return null;
  await response.body?.cancel();
  return freshUntil(response.headers);
}

/**
 * @param {FetchEvent} event
 * @param {URL} url
 * @param {Source} source
 * @param {number} status
 * @param {number} ms
 */
function record(event, url, source, status, ms) {
  const navigation = event.request.mode === "navigate";
  /** @type {InterceptedEntry} */
  const entry = {
    seq: ++sequence,
    url: url.pathname + url.search,
    source,
    status,
    ms: Math.round(ms * 10) / 10,
    time: Date.now(),
    navigation,
    clientId: navigation ? event.resultingClientId : event.clientId,
  };
  log.push(entry);
  if (log.length > MAX_LOG) log.shift();
  announce({ type: "intercepted", entry });
}

// --- messages from pages ----------------------------------------------------------------------------

sw.addEventListener("message", (event) => {
  const type = event.data?.type;
  switch (type) {
    case "status":
      event.waitUntil(replyStatus(event));
      break;
    default:
      throw new Error(`Unsupported message type ${JSON.stringify(type)} from a page`);
  }
});

/** @param {ExtendableMessageEvent} event */
async function replyStatus(event) {
  const client = /** @type {Client | null} */ (event.source);
  if (client === null) return;
  // Pages already controlled by this registration switch to us (controllerchange) as activation
  // starts, before the old caches are gone: answer once they are.
  await activation;
  const navigation = log.find((entry) => entry.navigation && entry.clientId === client.id) ?? null;
  client.postMessage({ type: "status", hash: BUILD_HASH, cache: await summary(), navigation, log: [...log] });
}

/** How many of this build's files the cache holds and their size; null when it has none. */
async function summary() {
  if (!(await caches.has(CACHE))) return null;
  const cache = await caches.open(CACHE);
  const info = await cache.match(BUILD_INFO);
  if (info === undefined) return null;
  /** @type {BuildInfo} */
  const manifest = await info.json();
  const stored = new Set((await cache.keys()).map((request) => request.url));
  const present = manifest.precache.filter((entry) => stored.has(new URL(entry.url, SCOPE).href));
  return { files: present.length, bytes: present.reduce((sum, entry) => sum + entry.size, 0) };
}

// --- small helpers --------------------------------------------------------------------------------

/** @param {ArrayBuffer} buffer */
function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** @param {number} bytes */
function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** @param {string} url */
function relative(url) {
  return url.startsWith(SCOPE.href) ? url.slice(SCOPE.href.length) || "/" : url;
}
