// Which of this build's big code files (the 9.6 MB wasm, the 1.25 MB pyodide.asm.mjs) the
// browser's HTTP cache holds fresh: the fetch handler leaves the workers' requests for those to
// the browser, whose HTTP cache answers them without the server, offline too. This is the one way
// big files reach the page from the HTTP cache.
//
// Why (docs/offline.md): Chromium never reuses compiled code for a response from Cache Storage,
// only for an HTTP-cache response, so the runtime would be compiled afresh at every start; and a
// copy the service worker fetches from the HTTP cache and hands on reaches the worker later than
// one the browser fetches itself.

import { freshUntil } from "./http-freshness.js";
import { POLICY_HEADERS } from "./site.js";

/** @typedef {import("./site.js").Site} Site */

// What V8 compiles, and keeps compiled only for HTTP-cache responses.
const CODE_TYPES = ["application/wasm", "text/javascript"];
// Below this, compiled code saves less than the browser's request costs: a script of a few
// kilobytes (the workers' own modules, `pyodide.mjs`) compiles in well under a millisecond, and
// Cache Storage answers it at once.
const SMALL_CODE_BYTES = 100_000;
/**
 * How long before its expiry a fresh copy is no longer left to the browser: a boot takes seconds,
 * and the expiry is reckoned from the server's `Date` while the browser reckons from when the
 * response arrived, so this also absorbs a server clock that runs up to a few minutes ahead.
 */
const FRESH_MARGIN_MS = 5 * 60_000;

export class HttpCache {
  /** @param {Site} site */
  constructor(site) {
    this.site = site;
    /** @type {Promise<Map<string, Headers>> | undefined} */
    this.storedCodeHeaders = undefined;
    /**
     * This build's big code files that the HTTP cache holds fresh, by URL: until when, in
     * Date.now() time. Filled anew at every navigation.
     * @type {Map<string, number>}
     */
    this.freshCode = new Map();
    /** Which navigation's check may write freshCode (an older one's answer comes too late). */
    this.check = 0;
  }

  /**
   * Whether the browser's HTTP cache holds this build's copy of `url` fresh for the next few
   * minutes, as the last navigation's check found. A request before the check is done is not
   * (race: the check runs while the page loads, the workers ask for the runtime a few hundred
   * milliseconds later): it is answered from Cache Storage, correct but compiled afresh.
   * @param {URL} url
   */
  holdsFresh(url) {
    const until = this.freshCode.get(url.href);
    return until !== undefined && Date.now() + FRESH_MARGIN_MS < until;
  }

  /**
   * Find, as a navigation starts, which of this build's big code files the HTTP cache holds fresh
   * and as this build's copy (same ETag and policy headers as the copy precached). Starting afresh
   * at each navigation means a cleared or evicted HTTP cache is seen by the next load, which then
   * boots from Cache Storage.
   */
  checkFreshCode() {
    const check = ++this.check;
    this.freshCode.clear();
    (async () => {
      // Both files at once: the check races the workers' first requests for them.
      const checked = await Promise.all(
        [...(await this.storedCode())].map(
          async ([href, stored]) => /** @type {const} */ ([href, await this.freshUntil(new URL(href), stored)]),
        ),
      );
      if (check !== this.check) return;
      for (const [href, until] of checked) if (until !== null) this.freshCode.set(href, until);
    })().catch(() => {}); // a failed check leaves every request to Cache Storage
  }

  /**
   * The stored headers of this build's big scripts and wasm, by URL, read from the cache once per
   * run of this worker (one `matchAll`, bodies unread). Empty when the cache is gone.
   * @returns {Promise<Map<string, Headers>>}
   */
  storedCode() {
    this.storedCodeHeaders ??= (async () => {
      // caches.has first: caches.open would re-create a cache a newer worker deleted.
      if (!(await caches.has(this.site.cache))) return new Map();
      const responses = await (await caches.open(this.site.cache)).matchAll();
      const worthIt = responses.filter((response) => isCode(response) && !isSmall(response));
      return new Map(worthIt.map((response) => [response.url, response.headers]));
    })().catch(() => new Map());
    return this.storedCodeHeaders;
  }

  /**
   * Until when (Date.now() time) the HTTP cache's copy of `url` stays fresh, if it is this
   * build's copy (same ETag and policy headers as `stored`); null otherwise. Never touches the
   * network (`only-if-cached`).
   * @param {URL} url
   * @param {Headers} stored  the headers of this build's copy
   * @returns {Promise<number | null>}
   */
  async freshUntil(url, stored) {
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
    await response.body?.cancel();
    return same ? freshUntil(response.headers) : null;
  }
}

/** @param {Response} response */
function isSmall(response) {
  return Number(response.headers.get("Content-Length") ?? Number.POSITIVE_INFINITY) < SMALL_CODE_BYTES;
}

/** @param {Response} response */
function isCode(response) {
  const type = response.headers.get("Content-Type")?.split(";")[0].trim();
  return type !== undefined && CODE_TYPES.includes(type);
}
