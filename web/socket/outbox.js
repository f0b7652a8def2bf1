// The page's outbox: every reliable message (a shared result, a chunk's answer) waits here from
// before it is sent until the server acks its id, so it survives reloads, closed tabs and browser
// restarts. Behind a storage seam: IndexedDB in the browser, a Map elsewhere (Node, tests, or a
// browser without IndexedDB, e.g. some insecure contexts: then the outbox says it is in memory).
//
// Several tabs of one browser share one IndexedDB. We do not give entries owners: each tab's
// SocketClient resends *everything* in the store after its hello (adopting what a closed tab left),
// and the server stores each id once (a resent id is acked as a duplicate). Simpler than owner
// records plus Web Locks, and it cannot strand an entry whose owner died mid-handover; the cost is
// at most one extra copy per open tab per reconnect. The page's count reads the store, so it
// counts each id once however many tabs resend it.

/** @typedef {import("./protocol.js").ReliableMessage} ReliableMessage */
/** @typedef {{id: string, message: ReliableMessage, savedAt: number}} OutboxEntry */
/**
 * Where entries live. Every method may be async.
 * @typedef {{
 *   put: (entry: OutboxEntry) => Promise<void> | void,
 *   remove: (id: string) => Promise<void> | void,
 *   all: () => Promise<OutboxEntry[]> | OutboxEntry[],
 * }} OutboxStorage
 */

const DB_NAME = "offload-outbox";
const STORE = "messages";
const CHANNEL = "offload-outbox";

/**
 * Entries in a Map: for Node and tests (share the Map between two outboxes to mimic a reload), and
 * the fallback where IndexedDB is missing.
 * @param {Map<string, OutboxEntry>} [entries]
 * @returns {OutboxStorage}
 */
export function memoryStorage(entries = new Map()) {
  return {
    put: (entry) => void entries.set(entry.id, entry),
    remove: (id) => void entries.delete(id),
    all: () => [...entries.values()],
  };
}

/**
 * Entries in IndexedDB (one object store keyed by id), shared by the origin's tabs.
 * @param {IDBFactory} idb
 * @returns {OutboxStorage}
 */
export function indexedDbStorage(idb) {
  /** @type {Promise<IDBDatabase>} */
  const opened = new Promise((resolve, reject) => {
    const request = idb.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  /**
   * @template T
   * @param {IDBTransactionMode} mode
   * @param {(store: IDBObjectStore) => IDBRequest<T>} work
   * @returns {Promise<T>}
   */
  const run = async (mode, work) => {
    const db = await opened;
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      // Settled when the transaction commits, not when the request succeeds: then it is on disk.
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  };
  return {
    put: async (entry) => void (await run("readwrite", (store) => store.put(entry))),
    remove: async (id) => void (await run("readwrite", (store) => store.delete(id))),
    all: () => run("readonly", (store) => /** @type {IDBRequest<OutboxEntry[]>} */ (store.getAll())),
  };
}

export class Outbox {
  /**
   * @param {OutboxStorage} storage
   * @param {{durable?: boolean, why?: string, channel?: BroadcastChannel | null}} [options]
   *   `durable`: entries outlive the page; `why`: where they live, for the page to say;
   *   `channel`: a BroadcastChannel so other tabs' counts follow this tab's changes
   */
  constructor(storage, { durable = false, why = "in memory", channel = null } = {}) {
    this.storage = storage;
    this.durable = durable;
    this.why = why;
    this.channel = channel;
    /** @type {Set<() => void>} */
    this.listeners = new Set();
    if (channel) channel.onmessage = () => this.changed(false);
  }

  /**
   * Keep a message until `remove(message.id)`. Writes are issued in call order, so a `remove`
   * called after a `put` of the same id runs after it.
   * @param {ReliableMessage} message
   * @returns {Promise<void>}
   */
  async put(message) {
    await this.storage.put({ id: message.id, message, savedAt: Date.now() });
    this.changed(true);
  }

  /**
   * @param {string} id
   * @returns {Promise<void>}
   */
  async remove(id) {
    await this.storage.remove(id);
    this.changed(true);
  }

  /**
   * What is waiting, oldest first.
   * @returns {Promise<OutboxEntry[]>}
   */
  async list() {
    const entries = await this.storage.all();
    return [...entries].sort((a, b) => a.savedAt - b.savedAt);
  }

  /**
   * Call `listener` after every change (this tab's, or another tab's through the channel).
   * @param {() => void} listener
   * @returns {() => void} unsubscribe
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * @private
   * @param {boolean} mine
   */
  changed(mine) {
    if (mine) this.channel?.postMessage("changed");
    for (const listener of this.listeners) listener();
  }
}

/**
 * The browser's outbox: IndexedDB where it exists, else memory (and it says so).
 * @returns {Outbox}
 */
export function browserOutbox() {
  const idb = globalThis.indexedDB;
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
  if (!idb) {
    return new Outbox(memoryStorage(), { why: "in memory only: this browser gives the page no IndexedDB here" });
  }
  return new Outbox(indexedDbStorage(idb), { durable: true, why: "in IndexedDB", channel });
}

/**
 * "2 results waiting to be sent, the oldest for 3 min", or "nothing waiting to be sent".
 * @param {OutboxEntry[]} entries  oldest first
 * @param {number} now
 * @returns {string}
 */
export function describeWaiting(entries, now) {
  if (entries.length === 0) return "nothing waiting to be sent";
  const n = entries.length;
  const ageS = Math.max(0, Math.round((now - entries[0].savedAt) / 1000));
  const age = ageS < 60 ? `${ageS} s` : ageS < 3600 ? `${Math.round(ageS / 60)} min` : `${Math.round(ageS / 3600)} h`;
  return n === 1 ? `1 result waiting to be sent, for ${age}` : `${n} results waiting to be sent, the oldest for ${age}`;
}
