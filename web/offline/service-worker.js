// The service worker's entry: binds the worker's events to its four jobs, each in its own module:
// precache.js (install: store this build, everything or nothing), activation.js (only this build's
// cache remains), fetch-handler.js (answer the site's requests from that cache, offline too) and
// telemetry.js (tell the pages what it did). Registered by panel.js with the site's root as its
// scope (the server widens it with Service-Worker-Allowed). It keeps the isolation headers on what
// it serves (else the page would lose crossOriginIsolated offline, and with it Cancel), never
// caches /api/ and never sees /ws (WebSockets bypass it). What it says to pages is protocol.js.

import { activate } from "./activation.js";
import { FetchHandler } from "./fetch-handler.js";
import { install } from "./precache.js";
import { siteFor } from "./site.js";
import { Telemetry } from "./telemetry.js";

// Stamped by build.py (write_precache_manifest) with the hash of the built site: a new build
// changes this line, the browser sees new bytes and installs the new worker with a new cache.
const BUILD_HASH = "unbuilt";

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const site = siteFor(BUILD_HASH, new URL(sw.registration.scope));
const telemetry = new Telemetry(site);
const fetchHandler = new FetchHandler(site, telemetry);
/** Settles when activation is done; pages asking for status meanwhile wait for it. */
let activation = Promise.resolve();

sw.addEventListener("install", (event) => install(event, site, telemetry, () => sw.skipWaiting()));

sw.addEventListener("activate", (event) => {
  activation = activate(site, sw.clients);
  event.waitUntil(activation);
});

sw.addEventListener("fetch", (event) => fetchHandler.handle(event));

sw.addEventListener("message", (event) => {
  const type = event.data?.type;
  switch (type) {
    case "status":
      event.waitUntil(telemetry.replyStatus(event, activation));
      break;
    default:
      throw new Error(`Unsupported message type ${JSON.stringify(type)} from a page`);
  }
});
