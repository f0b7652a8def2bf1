// The service worker's fetch handler: which requests it answers, and from where. A navigation to
// the site's root is redirected to the page's folder (as the server does); a big code file the
// browser's HTTP cache holds fresh is left to the browser (http-cache.js); everything else of
// this build comes from its Cache Storage copy, and the rest (/api/, a file it does not store)
// from the network. Each answer is logged (telemetry.js).

import { HttpCache } from "./http-cache.js";
import { needsIsolation, withIsolation } from "./isolation.js";

/** @typedef {import("./site.js").Site} Site */
/** @typedef {import("./telemetry.js").Telemetry} Telemetry */
/** @typedef {import("./protocol.js").Source} Source */

export class FetchHandler {
  /**
   * @param {Site} site
   * @param {Telemetry} telemetry
   */
  constructor(site, telemetry) {
    this.site = site;
    this.telemetry = telemetry;
    this.httpCache = new HttpCache(site);
  }

  /** @param {FetchEvent} event */
  handle(event) {
    const url = new URL(event.request.url);
    if (event.request.method !== "GET" || url.origin !== this.site.scope.origin) return; // the browser's default
    if (event.request.mode === "navigate") {
      this.httpCache.checkFreshCode();
      // Not logged: the page's own load is the navigation that follows, to the page's folder.
      if (url.pathname === this.site.scope.pathname) {
        event.respondWith(Response.redirect(`${this.site.home}${url.search}`, 302));
        return;
      }
    } else if (event.request.cache === "default" && this.httpCache.holdsFresh(url)) {
      // Not answered: the browser fetches it itself and its HTTP cache answers (fresh, this
      // build's copy, with its compiled code), without a detour through this worker.
      this.telemetry.record(event, url, "http-cache-direct", 200, 0);
      return;
    }
    event.respondWith(this.answer(event, url));
  }

  /**
   * @param {FetchEvent} event
   * @param {URL} url
   * @returns {Promise<Response>}
   */
  async answer(event, url) {
    const started = performance.now();
    const neverCached = this.site.neverCached.some((prefix) => url.pathname.startsWith(prefix));
    /** @type {Source} */
    let source = "cache";
    let response = neverCached ? null : await this.fromCache(url);
    if (response === null) {
      try {
        response = await fetch(event.request);
        source = "network";
      } catch (error) {
        this.telemetry.record(event, url, "failed", 0, performance.now() - started);
        throw error; // the page sees the same network error it would without us
      }
    }
    this.telemetry.record(event, url, source, response.status, performance.now() - started);
    return needsIsolation(response) ? withIsolation(response) : response;
  }

  /**
   * This build's copy of `url`, as stored; null when not cached.
   *
   * Handed out as the Cache API gives it, not re-wrapped in `new Response(...)` per request: the
   * headers it needs were stored with it (checkPolicy in precache.js), and Chromium never keeps
   * compiled code for a synthetic Response or one whose URL is not the request's (blink's
   * CachedMetadataSender::Create, docs/offline.md).
   * @param {URL} url
   * @returns {Promise<Response | null>}
   */
  async fromCache(url) {
    // The site's files do not depend on the query (`/web/?socket=direct` is the same page); a
    // folder means its index.html, as the server does.
    const key = url.pathname.endsWith("/") ? new URL("index.html", url).href : url.origin + url.pathname;
    // caches.match with a name, not caches.open: opening would re-create this build's cache after
    // a newer worker deleted it, and an old page's requests would keep an empty one alive.
    const cached = await caches.match(key, { cacheName: this.site.cache });
    if (cached === undefined) return null;
    if (cached.url === url.href) return cached;
    // Another URL's entry (a folder is its index.html, a query is dropped): handed out as is, its
    // URL would become the document's or the module's own (import.meta.url). Code caching is off
    // for it in any case, so a copy under the requested URL costs nothing.
    const { status, statusText, headers } = cached;
    return new Response(cached.body, { status, statusText, headers });
  }
}
