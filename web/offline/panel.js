// The offline panel: registers the service worker (service-worker.js beside it) and shows what it
// does — whether this load came from the network or its cache, the cache's version and size, a live
// list of the requests it answered (through its fetch handler, or its static routes, which the page
// sees in its resource timing) — with a button that clears the cache and unregisters it.

import { CACHE_PREFIX, CHANNEL } from "./protocol.js";

/** @typedef {import("./protocol.js").InterceptedEntry} InterceptedEntry */
/** @typedef {import("./protocol.js").WorkerMessage} WorkerMessage */
/** @typedef {import("./protocol.js").StatusReply} StatusReply */
/**
 * Resource timing with the service worker router's fields (Chromium 126+; not yet in TypeScript's
 * DOM types): which source a static route chose, and which one answered.
 * @typedef {PerformanceResourceTiming & {workerMatchedSourceType?: string,
 *            workerFinalSourceType?: string}} RoutedTiming
 */
/**
 * @typedef {{load: HTMLElement, state: HTMLElement, cache: HTMLElement, log: HTMLElement,
 *            clear: HTMLButtonElement}} OfflineElements
 */

const MAX_LOG_ROWS = 100;
/** @type {Record<import("./protocol.js").Source, string>} */
const SOURCE_LABELS = {
  cache: "cache",
  "http-cache-direct": "HTTP cache, fetched by the browser (same build)",
  network: "network",
  failed: "failed (offline?)",
  "route-cache": "cache (static route)",
  "route-network": "network (static route)",
};
// One formatter for every row: `toLocaleTimeString` builds a new one per call (~0.3 ms each).
const TIME_OF_DAY = new Intl.DateTimeFormat([], {
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
  hour12: false,
});
const SERVICE_WORKER_URL = new URL("./service-worker.js", import.meta.url);
// build.py's root-level entry for static hosts (its ROOT_SERVICE_WORKER).
const ROOT_SERVICE_WORKER_URL = new URL("../../service-worker.js", import.meta.url);
// The site's root (this module is web/offline/panel.js): the worker controls every page of the
// site, under whatever path the site is served. The server allows that scope with the worker's
// Service-Worker-Allowed header.
const SCOPE = new URL("../../", import.meta.url);

/**
 * Register the worker for the site's root: the script beside this module, whose scope the server
 * widens with Service-Worker-Allowed; where the script comes without that header (a static host
 * cannot send it), the root-level entry build.py writes, which imports it.
 * @returns {Promise<ServiceWorkerRegistration>}
 */
async function registerWorker() {
  /** @type {RegistrationOptions} */
  const options = { type: "module", scope: SCOPE.href, updateViaCache: "none" }; // compare bytes every time
  // Registered before: the same script again (an update check), with no request of the page's.
  const existing = await navigator.serviceWorker.getRegistration(SCOPE.href);
  const script = existing?.active ?? existing?.waiting ?? existing?.installing;
  if (script) return navigator.serviceWorker.register(script.scriptURL, options);
  // Asked first rather than tried: a refused scope is a console error in Chromium.
  const head = await fetch(SERVICE_WORKER_URL, { method: "HEAD", cache: "no-store" }).catch(() => null);
  const widened = head === null || head.headers.has("Service-Worker-Allowed"); // offline: as before
  return navigator.serviceWorker.register(widened ? SERVICE_WORKER_URL : ROOT_SERVICE_WORKER_URL, options);
}

export class OfflinePanel {
  /** @param {OfflineElements} elements */
  constructor(elements) {
    this.elements = elements;
    /** @type {string | null} The build whose cache serves this page, once known. */
    this.hash = null;
    /** @type {Set<string>} Entries shown, by time and seq (a status reply repeats broadcasts). */
    this.seen = new Set();
    /** @type {InterceptedEntry[]} Entries not drawn yet (see addEntry). */
    this.pending = [];
    /** Whether the page's resource timing is watched for statically routed requests. */
    this.watching = false;
    this.supported = "serviceWorker" in navigator && globalThis.isSecureContext;
    if (!this.supported) {
      this.showLoad("network", "from the network (this browser offers no service worker here)");
      this.showState("unsupported", "not available: needs a secure context and service worker support");
      return;
    }
    const container = navigator.serviceWorker;
    // Listening before registering: an install that fails says why only once, on this channel.
    new BroadcastChannel(CHANNEL).onmessage = (event) => this.receive(event.data);
    container.addEventListener("message", (event) => this.receive(event.data));
    container.addEventListener("controllerchange", () => {
      this.askStatus();
      this.watchRoutes();
    });
    elements.clear.addEventListener("click", () => this.clear());
    if (container.controller === null) {
      this.showLoad("network", "from the network (no service worker controlled this load)");
      this.showState("none", "not installed yet");
    } else {
      // What the worker did for this load is asked for, and drawn, in register(): not while the
      // page's workers boot, whose requests the same service worker answers meanwhile.
      this.showLoad("unknown", "through the service worker…");
    }
  }

  /**
   * Log the page's requests that the service worker's static routes answered (its cache or the
   * network, chosen by the browser without running the worker's fetch handler, so the worker never
   * hears of them): their resource timing says so in `workerMatchedSourceType` (Chromium 126+).
   * Requests that reached the fetch handler ("fetch-event") are in the worker's own log.
   */
  watchRoutes() {
    if (this.watching || typeof PerformanceObserver !== "function") return;
    this.watching = true;
    let seq = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of /** @type {RoutedTiming[]} */ (list.getEntries())) {
        const matched = entry.workerMatchedSourceType;
        if (matched !== "cache" && matched !== "network") continue;
        const url = new URL(entry.name);
        this.addEntry({
          seq: ++seq,
          url: url.pathname + url.search,
          source: entry.workerFinalSourceType === "cache" ? "route-cache" : "route-network",
          status: entry.responseStatus ?? 0,
          ms: Math.round(entry.duration * 10) / 10,
          time: Math.round(performance.timeOrigin + entry.startTime),
          navigation: false,
          clientId: "",
        });
      }
    });
    observer.observe({ type: "resource", buffered: true });
  }

  /**
   * Register the service worker (or check it for a new version), and show what it did for this
   * load. Called once the page's own workers are up, so precaching 14 MB does not compete with
   * their first boot, nor the status request (a walk through the cache) with their requests.
   */
  async register() {
    if (!this.supported) return;
    if (navigator.serviceWorker.controller !== null) {
      this.askStatus();
      this.watchRoutes();
    }
    try {
      const registration = await registerWorker();
      this.elements.clear.disabled = false;
      const installing = registration.installing;
      if (installing !== null) this.watchInstall(installing);
      registration.addEventListener("updatefound", () => {
        if (registration.installing !== null) this.watchInstall(registration.installing);
      });
    } catch (error) {
      // E.g. blocked by the browser's settings, or the script failed to load: the page keeps
      // working from the network, and says so. Over https a script that "failed to fetch" while
      // the page itself loaded is the browser refusing a certificate it was told to accept for
      // the page only (a self-signed one): browsers never run a service worker behind one.
      const message = /** @type {Error} */ (error).message;
      const certificate = globalThis.location.protocol === "https:" && /certificate|fetching the script/i.test(message);
      this.showState(
        "failed",
        certificate
          ? "not available: this browser does not trust the site's certificate (a self-signed one?), and " +
              "browsers refuse a service worker behind such a certificate. Offline use needs a trusted one."
          : `could not register: ${message}`,
      );
    }
  }

  /** @param {ServiceWorker} worker */
  watchInstall(worker) {
    this.showState("installing", "installing: downloading and checking every file of this build…");
    worker.addEventListener("statechange", () => {
      // A failed install is "redundant"; its precache_failed announcement usually says why first.
      if (worker.state === "redundant" && this.elements.state.dataset.state === "installing") {
        this.showState("failed", "the install failed; this page keeps working from the network");
      }
    });
  }

  /** Ask the controlling worker how this page was loaded and what its cache holds. */
  askStatus() {
    navigator.serviceWorker.controller?.postMessage({ type: "status" });
  }

  /** @param {WorkerMessage} message */
  receive(message) {
    switch (message.type) {
      case "status":
        this.showStatus(message);
        break;
      case "intercepted":
        this.addEntry(message.entry);
        break;
      case "precached":
        this.showState(
          "installing",
          `stored ${message.files} files (${megabytes(message.bytes)}) of build ${message.hash}; activating…`,
        );
        break;
      case "precache_failed":
        this.showState(
          "failed",
          `could not store build ${message.hash} for offline use: ${message.reason}. ` +
            "This page keeps working from the network.",
        );
        break;
      default:
        throw new Error(`Unsupported message from the service worker: ${JSON.stringify(message)}`);
    }
  }

  /** @param {StatusReply} status */
  showStatus(status) {
    if (this.hash !== null && this.hash !== status.hash) {
      this.showState("updated", `build ${status.hash} took over from ${this.hash}: reload to use it`);
    } else if (status.cache === null) {
      this.showState("failed", `build ${status.hash} is active but its cache is gone; loads use the network`);
    } else {
      this.showState("ready", "ready: this page works offline");
    }
    this.hash ??= status.hash;
    this.elements.cache.textContent =
      status.cache === null
        ? `build ${status.hash}: empty`
        : `build ${status.hash}: ${status.cache.files} files, ${megabytes(status.cache.bytes)}`;
    const navigation = status.navigation;
    if (navigation !== null) {
      this.showLoad(
        navigation.source,
        navigation.source === "cache"
          ? `from the service worker's cache (build ${status.hash}), in ${navigation.ms.toFixed(0)} ms`
          : "from the network, through the service worker",
      );
    } else if (this.elements.load.dataset.source === "unknown") {
      this.showLoad("worker", "through the service worker (which no longer remembers how)");
    }
    for (const entry of status.log) this.addEntry(entry);
  }

  /**
   * Queue a row for the log, drawn with the others of this frame. During a start the log gets
   * dozens of entries a second, each its own message or observer callback: drawn one by one, they
   * keep the main thread from the idle time the worker pool waits for (afterFirstPaint in
   * ../meter/boot-view.js; docs/offline.md).
   * @param {InterceptedEntry} entry
   */
  addEntry(entry) {
    const key = `${entry.source.startsWith("route-") ? "route" : "worker"}:${entry.time}:${entry.seq}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.pending.push(entry);
    if (this.pending.length === 1) requestAnimationFrame(() => this.drawPending());
  }

  /** Draw the queued rows, newest first, keeping the newest MAX_LOG_ROWS. */
  drawPending() {
    const rows = this.pending.slice(-MAX_LOG_ROWS).map((entry) => {
      const row = document.createElement("tr");
      row.dataset.source = entry.source;
      // A request left to the browser took the service worker no time; the browser's is unknown.
      const took = entry.source === "http-cache-direct" ? "—" : `${entry.ms.toFixed(1)} ms`;
      const cells = [clock(entry.time), entry.url, SOURCE_LABELS[entry.source], took];
      for (const text of cells) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    });
    this.pending = [];
    this.elements.log.prepend(...rows.reverse());
    while (this.elements.log.childElementCount > MAX_LOG_ROWS) this.elements.log.lastElementChild?.remove();
  }

  /** Unregister the worker and delete its caches: the next load comes from the network. */
  async clear() {
    this.elements.clear.disabled = true;
    for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
    let cleared = 0;
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && (await caches.delete(name))) cleared += 1;
    }
    this.elements.cache.textContent = "empty";
    this.showState(
      "cleared",
      `unregistered, ${cleared} cache${cleared === 1 ? "" : "s"} deleted: the next load comes from the network ` +
        "(and installs the worker again)",
    );
  }

  /** @param {string} state @param {string} text */
  showState(state, text) {
    this.elements.state.dataset.state = state;
    this.elements.state.textContent = text;
  }

  /** @param {string} source @param {string} text */
  showLoad(source, text) {
    this.elements.load.dataset.source = source;
    this.elements.load.textContent = text;
  }
}

/** @param {number} bytes */
function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** @param {number} epochMs */
function clock(epochMs) {
  const time = new Date(epochMs);
  return `${TIME_OF_DAY.format(time)}.${String(time.getMilliseconds()).padStart(3, "0")}`;
}
