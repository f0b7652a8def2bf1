// The WebSocket's life, shown as it happens: the four steps (upgrade request, 101, an open channel
// with messages both ways, a close by either side) light up live, a button closes from this page
// to show the closing handshake, and the three claims made for WebSockets each get a measurement:
// persistent (one connection and its age), bidirectional (server pushes no request asked for) and
// low overhead (framing bytes per message against an HTTP request carrying the same payload).

import { ServerType } from "../socket/protocol.js";

/** @typedef {import("../socket/client.js").SocketState} SocketState */
/** @typedef {import("../socket/client.js").StateDetail} StateDetail */
/** @typedef {import("../socket/client.js").FrameInfo} FrameInfo */
/** @typedef {"upgrade" | "switch" | "open" | "close"} Step */

// Replies to something the page sent; every other message from the server is a push.
/** @type {Set<string>} */
const REPLIES = new Set([ServerType.ACK, ServerType.PONG, ServerType.ERROR, ServerType.HELLO]);

/**
 * Bytes of WebSocket framing around a payload (RFC 6455 section 5.2): 2 bytes, plus 2 or 8 for an
 * extended length (payloads over 125 or 65,535 bytes), plus the 4-byte mask on frames a client sends.
 * @param {number} payloadBytes
 * @param {boolean} fromClient
 */
export function frameHeaderBytes(payloadBytes, fromClient) {
  const extended = payloadBytes > 65_535 ? 8 : payloadBytes > 125 ? 2 : 0;
  return 2 + extended + (fromClient ? 4 : 0);
}

/**
 * Bytes of a response's status line and headers as the browser exposes them: "name: value" lines
 * with CRLFs and the blank line (computed, not measured: the browser hides the raw bytes).
 * @param {Response} response
 */
export function responseHeaderBytes(response) {
  let total = `HTTP/1.1 ${response.status} ${response.statusText}\r\n`.length + 2;
  response.headers.forEach((value, name) => {
    total += name.length + 2 + new TextEncoder().encode(value).length + 2;
  });
  return total;
}

/** @param {number} ms */
function age(ms) {
  const seconds = Math.floor(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

export class LifecycleView {
  /**
   * @param {{steps: HTMLElement, close: HTMLButtonElement, reopen: HTMLButtonElement,
   *          persistent: HTMLElement, pushes: HTMLElement, overhead: HTMLElement,
   *          measure: HTMLButtonElement}} elements
   *   `steps` holds one element per step with `data-step` and a `.detail` inside
   * @param {{close: (code?: number, reason?: string) => Promise<{code: number, reason: string, wasClean: boolean} | null>,
   *          connect: () => void}} socket
   * @param {{shared?: boolean, apiBase?: string}} [options]  shared: the connection is a shared
   *   worker's, kept for every tab of this browser, so this page cannot close it (only its own
   *   port to it); apiBase: the server's origin for its /api/ (server-place.js), by default the page's
   */
  constructor(elements, socket, { shared = false, apiBase = "/" } = {}) {
    this.elements = elements;
    this.socket = socket;
    this.shared = shared;
    this.requestSizeUrl = new URL("api/request-size", new URL(apiBase, globalThis.location?.href)).href;
    this.connections = 0;
    /** @type {number | null} */
    this.openedAt = null;
    this.sent = 0;
    this.received = 0;
    this.pushes = 0;
    this.closingFromPage = false;
    /** @type {FrameInfo | null} the last message either way */
    this.lastFrame = null;
    this.measured = false;
    elements.close.addEventListener("click", () => this.closeFromPage());
    elements.reopen.addEventListener("click", () => {
      elements.reopen.disabled = true;
      socket.connect();
    });
    elements.measure.addEventListener("click", () => this.measureOverhead());
    setInterval(() => this.showPersistence(), 1000);
  }

  /**
   * @param {Step} step
   * @param {"pending" | "active" | "done"} status
   * @param {string} [detail]
   */
  mark(step, status, detail) {
    const item = /** @type {HTMLElement} */ (this.elements.steps.querySelector(`[data-step="${step}"]`));
    item.dataset.status = status;
    if (status === "active") item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
    if (detail !== undefined) /** @type {HTMLElement} */ (item.querySelector(".detail")).textContent = detail;
  }

  /** @param {SocketState} state @param {StateDetail} detail */
  showState(state, detail) {
    if (state === "connecting") {
      this.mark(
        "upgrade",
        "active",
        `GET /ws with Upgrade: websocket sent${detail.attempt ? ` (reconnect attempt ${detail.attempt})` : ""}…`,
      );
      this.mark("switch", "pending", "waiting for the server's answer");
      this.mark("open", "pending", "");
    } else if (state === "open") {
      this.connections += 1;
      this.openedAt = performance.now();
      this.sent = 0;
      this.received = 0;
      this.mark("upgrade", "done", "GET /ws with Upgrade: websocket sent");
      this.mark("switch", "done", "101 Switching Protocols received: the HTTP connection is now a WebSocket");
      this.mark("open", "active", "open: no message yet");
      this.mark("close", "pending", "");
      this.elements.close.disabled = false;
      this.elements.reopen.disabled = true;
    } else if (detail.code !== undefined) {
      this.openedAt = null;
      this.mark("open", "done");
      if (!this.closingFromPage) {
        const who =
          detail.code === 1006
            ? "The connection dropped: no close frame from either side"
            : `Closed by the server: its close frame carried ${detail.code}`;
        this.mark(
          "close",
          "done",
          `${who} (${detail.meaning}).${state === "reconnecting" ? " This page will reconnect by itself." : ""}`,
        );
      }
      this.elements.close.disabled = true;
    }
    this.showPersistence();
  }

  /** @param {any} hello the server's hello */
  showHello(hello) {
    this.mark(
      "switch",
      "done",
      `101 Switching Protocols received, with Sec-WebSocket-Accept ${hello.handshake.sec_websocket_accept}`,
    );
  }

  /** @param {FrameInfo} frame */
  showFrame(frame) {
    this.lastFrame = frame;
    if (!this.measured) {
      this.measured = true;
      void this.measureOverhead();
    }
    if (frame.direction === "out") {
      this.sent += 1;
    } else {
      this.received += 1;
      if (!REPLIES.has(frame.type)) this.pushes += 1;
    }
    this.mark(
      "open",
      "active",
      `↑ ${this.sent} sent, ↓ ${this.received} received on this connection, whenever either side wanted (last: ${frame.direction === "out" ? "↑" : "↓"} ${frame.type})`,
    );
    const item = /** @type {HTMLElement} */ (this.elements.steps.querySelector('[data-step="open"]'));
    item.dataset.flash = frame.direction;
    this.elements.pushes.textContent = `${this.pushes} ${this.pushes === 1 ? "message" : "messages"} the server sent with no request from this page (peers, results, job progress…); HTTP would need a request for each`;
  }

  showPersistence() {
    const open = this.openedAt === null ? "not open now" : `open for ${age(performance.now() - this.openedAt)}`;
    const count = this.connections === 1 ? "1 connection" : `${this.connections} connections`;
    this.elements.persistent.textContent = `${count} this session, ${open}; ${this.sent + this.received} messages over the current one, no new handshake for any of them`;
  }

  /** Close with 1000 from this page and show both halves of the closing handshake. */
  async closeFromPage() {
    this.closingFromPage = true;
    this.elements.close.disabled = true;
    this.mark(
      "close",
      "active",
      '→ close frame sent: code 1000, reason "closed from this page"; waiting for the server\'s close frame…',
    );
    const result = await this.socket.close(1000, "closed from this page");
    this.closingFromPage = false;
    this.mark(
      "close",
      "done",
      result === null
        ? this.shared
          ? "This tab let go of the browser's shared connection, which stays open for the other tabs: no close frame was sent. Open the page with ?socket=direct to watch a closing handshake."
          : "There was no open connection to close."
        : `→ close frame sent: code 1000 ("closed from this page"). ← the server answered with its close frame (code ${result.code}); clean close: ${result.wasClean ? "yes" : "no"}. Nothing reconnects until you ask.`,
    );
    this.elements.reopen.disabled = false;
  }

  /**
   * Send an HTTP request with a body as big as the last WebSocket message, and compare framing.
   * The request's header bytes are measured by the server; the response's are computed from the
   * headers the browser exposes; the WebSocket's come from RFC 6455.
   */
  async measureOverhead() {
    const frame = this.lastFrame;
    const payload = frame?.size ?? 100;
    const fromPage = frame?.direction !== "in";
    // Filler of the same size, never the message itself: it may hold what the person typed.
    try {
      const response = await fetch(this.requestSizeUrl, {
        method: "POST",
        body: "x".repeat(payload),
        cache: "no-store",
      });
      const counted = await response.json();
      const http = counted.header_bytes + responseHeaderBytes(response);
      const ws = frameHeaderBytes(payload, fromPage);
      const which = frame
        ? `the last message (${frame.direction === "in" ? "↓" : "↑"} ${frame.type}, ${payload} bytes)`
        : `a ${payload}-byte message`;
      this.elements.overhead.textContent =
        `For ${which}: ${ws} bytes of WebSocket framing (computed per RFC 6455${fromPage ? ", masked as every frame from a page is" : ""}) vs ` +
        `${http.toLocaleString("en")} bytes of HTTP headers for the same payload (${counted.header_bytes} in the request, counted by the server; ` +
        `${http - counted.header_bytes} in the response, computed from its headers) — about ${Math.round(http / ws)}× more.`;
      this.elements.overhead.dataset.ws = String(ws);
      this.elements.overhead.dataset.http = String(http);
    } catch (error) {
      this.elements.overhead.textContent = `Could not measure an HTTP request: ${/** @type {Error} */ (error).message}`;
    }
  }
}
