// The service worker's activation: only this build's cache remains, and the worker takes over the
// pages that are open now.

import { CACHE_PREFIX } from "./protocol.js";

/** @typedef {import("./site.js").Site} Site */

/**
 * Delete the caches of other builds (never another cache of the origin: the workers' snapshot
 * cache is theirs), then control the page that registered us now, not from its next load on.
 * @param {Site} site
 * @param {Clients} clients
 */
export async function activate(site, clients) {
  for (const name of await caches.keys()) {
    if (name.startsWith(CACHE_PREFIX) && name !== site.cache) await caches.delete(name);
  }
  await clients.claim();
}
