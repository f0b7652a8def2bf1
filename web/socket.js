// The page's WebSocket client: the only module that touches `WebSocket`. It reports its state,
// reconnects with exponential backoff and jitter, and keeps messages sent with `sendReliable`
// until the server acks their `id`, resending them after every reconnect.
// The message vocabulary is defined once, in server/protocol.py (see docs/socket-protocol.md).

/**
 * @typedef {"connecting" | "open" | "reconnecting" | "closed"} SocketState
 * @typedef {{code?: number, reason?: string, meaning?: string, attempt?: number,
 *   delayMs?: number}} StateDetail
 * @typedef {{type: string, id?: string | null, [key: string]: unknown}} Message
 * @typedef {{direction: "in" | "out", type: string, size: number, time: number}} FrameInfo
 * @typedef {{
 *   url?: string,
 *   onState?: (state: SocketState, detail: StateDetail) => void,
 *   onMessage?: (msg: Message) => void,
 *   onFrame?: (frame: FrameInfo) => void,
 *   minDelayMs?: number,
 *   maxDelayMs?: number,
 * }} SocketClientOptions
 * @typedef {{message: Message, resolve: (ack: Message) => void,
 *   reject: (error: Error) => void}} Pending
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
  return globalThis.crypto.randomUUID();
}

export class SocketClient {
  /** @param {SocketClientOptions} options */
  constructor({ url, onState, onMessage, onFrame, minDelayMs = 250, maxDelayMs = 10000 } = {}) {
    this.url = url ?? defaultSocketUrl();
    this.onState = onState ?? (() => {});
    this.onMessage = onMessage ?? (() => {});
    this.onFrame = onFrame;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    /** @type {WebSocket | null} */
    this.ws = null;
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
    /** @type {Set<(msg: Message) => void>} Extra listeners (see `subscribe`). */
    this.listeners = new Set();
  }

  /**
   * Also call `listener` with every server message (after `onMessage`); for modules such as
   * distributed.js that share the page's socket. Returns the function that unsubscribes.
   * @param {(msg: Message) => void} listener
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
   * @param {Message} msg
   * @returns {boolean}
   */
  send(msg) {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) return false;
    const text = JSON.stringify(msg);
    this.ws.send(text);
    this.onFrame?.({ direction: "out", type: msg.type, size: byteLength(text), time: Date.now() });
    return true;
  }

  /**
   * Send a message that must arrive: resolved with the server's `ack` for `msg.id` (an id is
   * added when missing), rejected if the server answers its id with an `error` or on `close()`.
   * Until acked it is resent after each reconnect; the server stores each id once.
   * @param {Message} msg
   * @returns {Promise<Message>}
   */
  sendReliable(msg) {
    const message = msg.id ? msg : { ...msg, id: newId() };
    const id = /** @type {string} */ (message.id);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { message, resolve, reject });
      this.send(message);
    });
  }

  /**
   * Close for good: no reconnect; pending reliable messages are rejected. Resolves when the closing
   * handshake ends, with what the browser saw (`wasClean`: the server answered with its own close
   * frame), or null when there was no open socket.
   * @param {number} [code]
   * @param {string} [reason]
   * @returns {Promise<{code: number, reason: string, wasClean: boolean} | null>}
   */
  close(code = 1000, reason = "client closed") {
    this.wanted = false;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    /** @type {Promise<{code: number, reason: string, wasClean: boolean} | null>} */
    let closed = Promise.resolve(null);
    if (ws !== null && ws.readyState <= WebSocket.OPEN) {
      closed = new Promise((resolve) => {
        ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      });
      ws.close(code, reason);
    }
    for (const { reject } of this.pending.values()) reject(new Error("socket closed"));
    this.pending.clear();
    this.setState("closed", { code, reason, meaning: closeMeaning(code) });
    return closed;
  }

  /** @private */
  open() {
    this.setState("connecting", { attempt: this.attempt });
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws === ws) this.setState("open", {});
    };
    ws.onmessage = (event) => {
      if (this.ws === ws) this.receive(String(event.data));
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.dropped(event.code, event.reason);
    };
    // An error is always followed by close, which is where reconnecting happens.
    ws.onerror = () => {};
  }

  /**
   * @private
   * @param {string} text
   */
  receive(text) {
    /** @type {Message} */
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    this.onFrame?.({ direction: "in", type: msg.type, size: byteLength(text), time: Date.now() });
    switch (msg.type) {
      case "hello":
        this.clientId = typeof msg.client_id === "string" ? msg.client_id : null;
        this.attempt = 0;
        for (const { message } of this.pending.values()) this.send(message);
        break;
      case "ack": {
        const pending = this.pending.get(String(msg.id));
        this.pending.delete(String(msg.id));
        pending?.resolve(msg);
        break;
      }
      case "error": {
        const pending = msg.id ? this.pending.get(msg.id) : undefined;
        if (pending && msg.id) {
          this.pending.delete(msg.id);
          pending.reject(new Error(`${msg.name}: ${msg.message}`));
        }
        break;
      }
      default:
        break;
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
    this.ws = null;
    if (!this.wanted) {
      this.setState("closed", { code, reason, meaning: closeMeaning(code) });
      return;
    }
    this.attempt += 1;
    // Full exponential growth, capped, then jittered into [50%, 100%] so a restarted server
    // is not hit by every page at the same instant.
    const ceiling = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** (this.attempt - 1));
    const delayMs = Math.round(ceiling * (0.5 + Math.random() * 0.5));
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
