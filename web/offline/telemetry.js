// What the service worker tells the pages: every request its fetch handler answered (a log kept
// while the worker runs, each entry also broadcast), its precache's outcome, and, to a page that
// asks, the status of this build's cache. The messages are defined in protocol.js.

import { CHANNEL } from "./protocol.js";

/** @typedef {import("./protocol.js").InterceptedEntry} InterceptedEntry */
/** @typedef {import("./protocol.js").Source} Source */
/** @typedef {import("./protocol.js").WorkerMessage} WorkerMessage */
/** @typedef {import("./site.js").Site} Site */
/** @typedef {import("./site.js").BuildInfo} BuildInfo */

const MAX_LOG = 200;

export class Telemetry {
  /** @param {Site} site */
  constructor(site) {
    this.site = site;
    this.channel = new BroadcastChannel(CHANNEL);
    /** @type {InterceptedEntry[]} Recent answers, oldest first (lost when the browser stops us). */
    this.log = [];
    this.sequence = 0;
  }

  /** @param {WorkerMessage} message */
  announce(message) {
    this.channel.postMessage(message);
  }

  /**
   * @param {FetchEvent} event
   * @param {URL} url
   * @param {Source} source
   * @param {number} status
   * @param {number} ms
   */
  record(event, url, source, status, ms) {
    const navigation = event.request.mode === "navigate";
    /** @type {InterceptedEntry} */
    const entry = {
      seq: ++this.sequence,
      url: url.pathname + url.search,
      source,
      status,
      ms: Math.round(ms * 10) / 10,
      time: Date.now(),
      navigation,
      clientId: navigation ? event.resultingClientId : event.clientId,
    };
    this.log.push(entry);
    if (this.log.length > MAX_LOG) this.log.shift();
    this.announce({ type: "intercepted", entry });
  }

  /**
   * Answer a page's status request: how it was loaded, what the cache holds, the log.
   * @param {ExtendableMessageEvent} event
   * @param {Promise<void>} activation  settles when activation is done
   */
  async replyStatus(event, activation) {
    const client = /** @type {Client | null} */ (event.source);
    if (client === null) return;
    // Pages already controlled by this registration switch to us (controllerchange) as
    // activation starts, before the old caches are gone: answer once they are.
    await activation;
    const navigation = this.log.find((entry) => entry.navigation && entry.clientId === client.id) ?? null;
    const cache = await this.summary();
    client.postMessage({ type: "status", hash: this.site.hash, cache, navigation, log: [...this.log] });
  }

  /** How many of this build's files the cache holds and their size; null when it has none. */
  async summary() {
    if (!(await caches.has(this.site.cache))) return null;
    const cache = await caches.open(this.site.cache);
    const info = await cache.match(this.site.buildInfo);
    if (info === undefined) return null;
    /** @type {BuildInfo} */
    const manifest = await info.json();
    const stored = new Set((await cache.keys()).map((request) => request.url));
    const present = manifest.precache.filter((entry) => stored.has(new URL(entry.url, this.site.scope).href));
    return { files: present.length, bytes: present.reduce((sum, entry) => sum + entry.size, 0) };
  }
}
