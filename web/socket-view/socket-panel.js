// The socket panel: the connection's state and close codes, the handshake the server saw, a live
// log of frames both ways, how many pages are connected and the results they share.

/** @typedef {import("../socket/client.js").SocketState} SocketState */
/** @typedef {import("../socket/client.js").StateDetail} StateDetail */
/** @typedef {import("../socket/client.js").FrameInfo} FrameInfo */
/** @typedef {import("../socket/protocol.js").HelloMessage} HelloMessage */
/** @typedef {import("../socket/protocol.js").StoredResult} StoredResult */
/** @typedef {import("../socket/tab-protocol.js").TabsInfo} TabsInfo */
/** @typedef {import("../socket/tab-protocol.js").Traffic} Traffic */
/** @typedef {import("../socket/outbox.js").Outbox} Outbox */

import { describeWaiting } from "../socket/outbox.js";

const MAX_LOG_ROWS = 100;
const MAX_SHARED = 20;

export class SocketPanel {
  /**
   * @param {{state: HTMLElement, chip: HTMLElement, version: HTMLElement, peers: HTMLElement,
   *          handshake: HTMLElement, log: HTMLElement, shared: HTMLElement, mode: HTMLElement,
   *          tabs: HTMLElement, waiting?: HTMLElement}} elements
   */
  constructor(elements) {
    this.elements = elements;
    /** @type {number | null} This tab's number on the shared connection (shared mode only). */
    this.tab = null;
  }

  /**
   * Which socket this tab uses.
   * @param {"shared" | "direct"} mode
   * @param {string} why
   */
  showMode(mode, why) {
    this.elements.mode.dataset.mode = mode;
    this.elements.mode.textContent = `${mode === "shared" ? "shared" : "direct"}: ${why}`;
    if (mode === "direct") this.elements.tabs.textContent = "this tab has its own connection";
  }

  /**
   * How many tabs share the connection (shared mode).
   * @param {TabsInfo} info
   */
  showTabs(info) {
    this.tab = info.tab;
    this.elements.tabs.dataset.tabs = String(info.tabs);
    this.elements.tabs.textContent = `${info.tabs} tab${info.tabs === 1 ? "" : "s"} on 1 connection (this is tab ${info.tab})`;
  }

  /**
   * A frame on the shared connection, and the tab it was for (shared mode).
   * @param {Traffic} frame
   */
  logTraffic(frame) {
    const who =
      frame.tab === null
        ? frame.direction === "in"
          ? "all tabs"
          : "shared worker"
        : frame.tab === this.tab
          ? `tab ${frame.tab} (this)`
          : `tab ${frame.tab}`;
    const direction = `${frame.direction === "in" ? "↓" : "↑"} ${who}`;
    this.logRow(frame.direction, [seconds(frame.time), direction, frame.type, String(frame.size)]);
  }

  /** @param {SocketState} state @param {StateDetail} detail */
  showState(state, detail) {
    let text = state;
    if (detail.code) text += ` — closed with ${detail.code}${detail.meaning ? ` (${detail.meaning})` : ""}`;
    if (state === "reconnecting" && detail.delayMs !== undefined) {
      text += `, attempt ${detail.attempt ?? 1} in ${(detail.delayMs / 1000).toFixed(1)} s`;
    }
    for (const target of [this.elements.state, this.elements.chip]) {
      target.dataset.state = state;
      target.textContent = target === this.elements.chip ? state : text;
    }
    // The log keeps the whole story (close code, each attempt, reopening); the state line only now.
    this.logRow("event", [seconds(Date.now()), text]);
  }

  /**
   * There is no server to connect to (a static host served the page, or `?server=` is wrong):
   * said once, and the socket is never opened.
   * @param {string} text
   */
  showAbsent(text) {
    this.elements.state.dataset.state = "absent";
    this.elements.state.textContent = text;
    this.elements.chip.dataset.state = "absent";
    this.elements.chip.textContent = "no server here";
    this.logRow("event", [seconds(Date.now()), text]);
  }

  /**
   * The server's own health (`server` message): e.g. its shared store (Redis) went away.
   * @param {boolean} ok @param {string} text
   */
  showServerStatus(ok, text) {
    this.elements.state.dataset.server = ok ? "ok" : "degraded";
    this.logRow("event", [seconds(Date.now()), `server ${ok ? "ok" : "degraded"}: ${text}`]);
  }

  /** @param {FrameInfo} frame */
  logFrame(frame) {
    const direction = frame.direction === "in" ? "↓ in" : "↑ out";
    this.logRow(frame.direction, [seconds(frame.time), direction, frame.type, String(frame.size)]);
  }

  /**
   * @param {string} kind  "in", "out" or "event" (a time and one sentence across the other columns)
   * @param {string[]} cells
   */
  logRow(kind, cells) {
    const row = document.createElement("tr");
    row.className = kind;
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    if (kind === "event") /** @type {HTMLTableCellElement} */ (row.lastElementChild).colSpan = 3;
    this.elements.log.prepend(row);
    while (this.elements.log.childElementCount > MAX_LOG_ROWS) this.elements.log.lastElementChild?.remove();
  }

  /** @param {HelloMessage} hello the server's hello message */
  showHello(hello) {
    this.elements.version.textContent = `Offload server ${hello.version} (protocol ${hello.protocol})`;
    this.showPeers(hello.peers);
    const h = hello.handshake;
    this.elements.handshake.textContent = [
      "→ the page asked:",
      `  ${h.request_line}`,
      `  Upgrade: ${h.upgrade}`,
      `  Connection: ${h.connection}`,
      `  Sec-WebSocket-Key: ${h.sec_websocket_key}`,
      `  Sec-WebSocket-Version: ${h.sec_websocket_version}`,
      "← the server answered:",
      `  HTTP/1.1 ${h.status} Switching Protocols`,
      `  Sec-WebSocket-Accept: ${h.sec_websocket_accept}`,
      `    (base64 of SHA-1 of the key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11)`,
    ].join("\n");
  }

  /**
   * @param {number} count  open connections, this one included
   * @param {number} tabs  the pages behind them (more than `count` when tabs share a connection)
   */
  showPeers(count, tabs = count) {
    this.elements.peers.dataset.connections = String(count);
    this.elements.peers.dataset.tabs = String(tabs);
    this.elements.peers.textContent =
      tabs === count
        ? `${count} (this one included)`
        : `${tabs} tabs on ${count} connection${count === 1 ? "" : "s"} (this one included)`;
  }

  /**
   * Show how many results wait in the outbox and for how long, after each change (this tab's or
   * another's) and every 15 s for the age. `data-waiting` holds the count.
   * @param {Outbox} outbox
   */
  watchOutbox(outbox) {
    const target = this.elements.waiting;
    if (!target) return;
    const refresh = () =>
      outbox
        .list()
        .then((entries) => {
          target.dataset.waiting = String(entries.length);
          const where = outbox.durable ? "" : ` (kept ${outbox.why}: lost on reload)`;
          target.textContent = `${describeWaiting(entries, Date.now())}${where}`;
        })
        .catch((error) => {
          target.textContent = `cannot read the outbox: ${error}`;
        });
    outbox.subscribe(refresh);
    setInterval(refresh, 15_000);
    refresh();
  }

  /**
   * A result stored by the server, from this page or another.
   * @param {Pick<StoredResult, "task" | "duration_ms" | "client_id" | "result">} result
   * @param {boolean} mine
   * @param {boolean} [sibling]  from another tab of this browser (the same shared connection)
   */
  addShared(result, mine, sibling = false) {
    const list = this.elements.shared;
    list.querySelector(".muted")?.remove();
    const item = document.createElement("li");
    const who = mine ? "this page" : sibling ? "another tab of this browser" : `page ${result.client_id.slice(0, 8)}`;
    item.textContent = `${result.task} in ${(result.duration_ms / 1000).toFixed(2)} s by ${who}: ${summarize(result.result)}`;
    list.prepend(item);
    while (list.childElementCount > MAX_SHARED) list.lastElementChild?.remove();
  }
}

/**
 * Seconds since this page opened, for a Date.now() time (what the socket client stamps frames with).
 * @param {number} epochMs
 */
function seconds(epochMs) {
  return ((epochMs - performance.timeOrigin) / 1000).toFixed(2);
}

/** @param {unknown} value */
function summarize(value) {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
