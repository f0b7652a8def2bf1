// The page's socket client: the page <-> server protocol's state, over a transport it is given
// (transport.js: a direct WebSocket by default). It reports its state, reconnects with
// exponential backoff and jitter, and keeps messages sent with `sendReliable` until the server
// acks their `id`, resending them after every reconnect. The messages are defined once, in
// server/protocol.py, and generated into protocol.js (see docs/socket-protocol.md).

import { randomId } from "../capabilities.js";
import { Outbox, memoryStorage } from "./outbox.js";
import { ServerType } from "./protocol.js";
import { connectWebSocket } from "./transport.js";

/**
 * @typedef {import("./protocol.js").ClientMessage} ClientMessage
 * @typedef {import("./protocol.js").ServerMessage} ServerMessage
 * @typedef {import("./protocol.js").ReliableMessage} ReliableMessage
 * @typedef {import("./protocol.js").AckMessage} AckMessage
 * @typedef {import("./transport.js").Connect} Connect
 * @typedef {import("./transport.js").Transport} Transport
 * @typedef {"connecting" | "open" | "reconnecting" | "closed"} SocketState
 * @typedef {{code?: number, reason?: string, meaning?: string, attempt?: number,
 *   delayMs?: number}} StateDetail
 * @typedef {{direction: "in" | "out", type: string, size: number, time: number}} FrameInfo
 * @typedef {{
 *   url?: string,
 *   connect?: Connect,
 *   onState?: (state: SocketState, detail: StateDetail) => void,
 *   onMessage?: (msg: ServerMessage) => void,
 *   onFrame?: (frame: FrameInfo) => void,
 *   minDelayMs?: number,
 *   maxDelayMs?: number,
 *   outbox?: Outbox,
 * }} SocketClientOptions
 * @typedef {{message: ReliableMessage, acked: Promise<AckMessage>,
 *   resolve: (ack: AckMessage) => void, reject: (error: Error) => void}} Pending
 */

/** What each close code means, for people reading the page's socket log. */
export const CLOSE_MEANINGS = Object.freeze({
  1000: "normal closure",
  1001: "going away (server shutting down or page leaving)",
  1005: "no status code given",
  1006: "connection dropped without a close frame",
  1008: "policy violation (e.g. rate limit, or not reading)",
  1009: "message too big",
  1011: "server error",
  1012: "service restart",
  1013: "try again later",
});

/**
 * The meaning of a WebSocket close code.
 * @param {number} code
 * @returns {string}
 */
export function closeMeaning(code) {
  return /** @type {Record<number, string>} */ (CLOSE_MEANINGS)[code] ?? "unknown close code";
}

/**
 * `ws://` or `wss://` URL of the server's `/ws` on the page's own origin.
 * @returns {string}
 */
export function defaultSocketUrl() {
  const url = new URL("/ws", globalThis.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * A fresh message id.
 * @returns {string}
 */
export function newId() {
  return randomId(); // crypto.randomUUID is missing outside a secure context
}

export class SocketClient {
  /** @param {SocketClientOptions} options */
  constructor({
    url,
    connect = connectWebSocket,
    onState,
    onMessage,
    onFrame,
    minDelayMs = 250,
    maxDelayMs = 10000,
    outbox = new Outbox(memoryStorage()),
  } = {}) {
    this.url = url ?? defaultSocketUrl();
    this.connectTransport = connect;
    this.onState = onState ?? (() => {});
    this.onMessage = onMessage ?? (() => {});
    this.onFrame = onFrame;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    /** @type {Transport | null} the current connection attempt */
    this.transport = null;
    /** @type {SocketState} */
    this._state = "closed";
    /** @type {Map<string, Pending>} Unacknowledged reliable messages, in send order. */
    this.pending = new Map();
    /** @type {string | null} The id the server gave this connection in `hello`. */
    this.clientId = null;
    this.attempt = 0;
    this.wanted = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {Set<(msg: ServerMessage) => void>} Extra listeners (see `subscribe`). */
    this.listeners = new Set();
    /** Where reliable messages wait for their ack (outbox.js): kept before sending, across reloads. */
    this.outbox = outbox;
    /** @type {Transport | null} The connection the server has said hello on (resends go after it). */
    this.greeted = null;
    /** Resolves once what an earlier page left in the outbox is pending here too (and sent if open). */
    this.restored = this.adopt();
  }

  /**
   * Make everything in the outbox pending here (what this tab, an earlier load of it or another tab
   * left), oldest first, and send what is new to this client if the server has said hello. Every
   * tab resends the whole shared store after its hello; the server stores each id once (outbox.js).
   * @returns {Promise<void>}
   */
  async adopt() {
    /** @type {import("./outbox.js").OutboxEntry[]} */
    let entries = [];
    try {
      entries = await this.outbox.list();
    } catch {
      return; // storage refused (e.g. private mode): what is in memory still goes
    }
    for (const { message } of entries) {
      if (this.pending.has(message.id)) continue;
      this.track(message);
      if (this.greeted !== null && this.greeted === this.transport) this.send(message);
    }
  }

  /**
   * @private
   * @param {ReliableMessage} msg
   * @returns {Pending}
   */
  track(msg) {
    /** @type {(ack: AckMessage) => void} */
    let resolve = () => {};
    /** @type {(error: Error) => void} */
    let reject = () => {};
    /** @type {Promise<AckMessage>} */
    const acked = new Promise((yes, no) => {
      resolve = yes;
      reject = no;
    });
    acked.catch(() => {}); // adopted entries have nobody awaiting them
    const pending = { message: msg, acked, resolve, reject };
    this.pending.set(msg.id, pending);
    return pending;
  }

  /**
   * @private
   * @param {string} id
   */
  forget(id) {
    this.pending.delete(id);
    this.outbox.remove(id).catch(() => {});
  }

  /**
   * Also call `listener` with every server message (after `onMessage`); for modules such as
   * distributed.js that share the page's socket. Returns the function that unsubscribes.
   * @param {(msg: ServerMessage) => void} listener
   * @returns {() => void}
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @returns {SocketState} */
  get state() {
    return this._state;
  }

  /** Open the socket (and keep it open until `close()`). */
  connect() {
    this.wanted = true;
    clearTimeout(this.timer);
    this.open();
  }

  /**
   * Send a message now if the socket is open; returns whether it was sent.
   * @param {ClientMessage} msg
   * @returns {boolean}
   */
  send(msg) {
    if (this.transport === null || this._state !== "open") return false;
    const text = JSON.stringify(msg);
    this.transport.send(text);
    this.onFrame?.({ direction: "out", type: msg.type, size: byteLength(text), time: Date.now() });
    return true;
  }

  /**
   * Send a message that must arrive: resolved with the server's `ack` for `msg.id`, rejected if
   * the server answers its id with an `error` or on `close()`. Until acked it is resent after each
   * reconnect; the server stores each id once. Sending an id that is still pending again keeps
   * one copy and returns the same promise.
   * @param {ReliableMessage} msg
   * @returns {Promise<AckMessage>}
   */
  sendReliable(msg) {
    const waiting = this.pending.get(msg.id);
    if (waiting) return waiting.acked;
    const { acked } = this.track(msg);
    // Into the outbox first (its write is issued before the frame leaves), so a reload before the
    // ack finds it there; a storage failure does not stop the send.
    this.outbox.put(msg).catch(() => {});
    this.send(msg);
    return acked;
  }

  /**
   * Close for good: no reconnect; pending reliable messages are rejected (they stay in the outbox
   * for the next page). Resolves when the closing
   * handshake ends, with what the browser saw (`wasClean`: the server answered with its own close
   * frame), or null when there was no open socket.
   * @param {number} [code]
   * @param {string} [reason]
   * @returns {Promise<{code: number, reason: string, wasClean: boolean} | null>}
   */
  close(code = 1000, reason = "client closed") {
    this.wanted = false;
    clearTimeout(this.timer);
    const transport = this.transport;
    this.transport = null;
    this.greeted = null;
    /** @type {Promise<import("./transport.js").ClosedSocket | null>} */
    const closed = transport ? transport.close(code, reason) : Promise.resolve(null);
    for (const { reject } of this.pending.values()) reject(new Error("socket closed"));
    this.pending.clear();
    this.setState("closed", { code, reason, meaning: closeMeaning(code) });
    return closed;
  }

  /** @private */
  open() {
    this.setState("connecting", { attempt: this.attempt });
    /** @type {Transport} */
    const transport = this.connectTransport(this.url, {
      // Events of an attempt the client has since given up on (close(), a newer attempt) are ignored.
      onOpen: () => {
        if (this.transport === transport) this.setState("open", {});
      },
      onMessage: (text) => {
        if (this.transport === transport) this.receive(text);
      },
      onClose: (code, reason) => {
        if (this.transport === transport) this.dropped(code, reason);
      },
    });
    this.transport = transport;
  }

  /**
   * @private
   * @param {string} text
   */
  receive(text) {
    /** @type {ServerMessage} */
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    this.onFrame?.({ direction: "in", type: msg.type, size: byteLength(text), time: Date.now() });
    switch (msg.type) {
      case ServerType.HELLO:
        this.clientId = msg.client_id;
        this.attempt = 0;
        this.greeted = this.transport;
        for (const { message } of this.pending.values()) this.send(message);
        // and what other tabs (or a closed one) left in the shared outbox
        this.adopt().catch(() => {});
        break;
      case ServerType.ACK: {
        const pending = this.pending.get(msg.id);
        this.forget(msg.id);
        pending?.resolve(msg);
        break;
      }
      case ServerType.SERVER:
        // The server's store is back (e.g. Redis): what it refused meanwhile goes again.
        if (msg.ok) for (const { message } of this.pending.values()) this.send(message);
        break;
      case ServerType.ERROR: {
        const pending = msg.id ? this.pending.get(msg.id) : undefined;
        // Retryable: the server could not store it yet; it stays pending and is resent after
        // the next reconnect or `server` ok message.
        if (pending && msg.id && msg.name !== "storage_unavailable") {
          this.forget(msg.id);
          pending.reject(new Error(`${msg.name}: ${msg.message}`));
        }
        break;
      }
      default:
        break; // the rest is the page's business (onMessage and the subscribers)
    }
    this.onMessage(msg);
    for (const listener of this.listeners) listener(msg);
  }

  /**
   * @private
   * @param {number} code
   * @param {string} reason
   */
  dropped(code, reason) {
    this.transport = null;
    this.greeted = null;
    if (!this.wanted) {
      this.setState("closed", { code, reason, meaning: closeMeaning(code) });
      return;
    }
    this.attempt += 1;
    const delayMs = this.backoffMs(this.attempt);
    this.setState("reconnecting", {
      code,
      reason,
      meaning: closeMeaning(code),
      attempt: this.attempt,
      delayMs,
    });
    this.timer = setTimeout(() => {
      if (this.wanted) this.open();
    }, delayMs);
  }

  /**
   * How long to wait before reconnect attempt `attempt` (1, 2, ...): full exponential growth from
   * minDelayMs, capped at maxDelayMs, then jittered into [50%, 100%] so a restarted server is not
   * hit by every page at the same instant.
   * @param {number} attempt
   * @returns {number} milliseconds
   */
  backoffMs(attempt) {
    const ceiling = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling * (0.5 + Math.random() * 0.5));
  }

  /**
   * @private
   * @param {SocketState} state
   * @param {StateDetail} detail
   */
  setState(state, detail) {
    this._state = state;
    this.onState(state, detail);
  }
}

/**
 * UTF-8 size of a frame's text.
 * @param {string} text
 * @returns {number}
 */
function byteLength(text) {
  return new TextEncoder().encode(text).length;
}
