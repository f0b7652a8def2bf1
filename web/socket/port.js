// The page's side of the shared socket: a transport (transport.js's shape) over this tab's
// MessagePort to shared-worker.js, which owns the browser's one WebSocket. The tab holds a
// Web Lock for as long as it lives, which is how the worker learns that a tab closed or crashed.

import { randomId } from "../capabilities.js";
import { SOCKET_WORKER_NAME, TAB_LOCK_PREFIX } from "./tab-protocol.js";
import { connectWebSocket } from "./transport.js";

/** @typedef {import("./transport.js").Connect} Connect */
/** @typedef {import("./transport.js").TransportEvents} TransportEvents */
/** @typedef {import("./tab-protocol.js").TabMessage} TabMessage */
/** @typedef {import("./tab-protocol.js").WorkerMessage} WorkerMessage */
/** @typedef {import("./tab-protocol.js").TabsInfo} TabsInfo */
/** @typedef {import("./tab-protocol.js").Traffic} Traffic */

/**
 * Which socket this tab uses: the shared one, unless the browser has no SharedWorker or the page
 * was opened with `?socket=direct`.
 * @returns {{mode: "shared" | "direct", why: string}}
 */
export function socketMode() {
  if (new URLSearchParams(globalThis.location.search).get("socket") === "direct") {
    return { mode: "direct", why: "asked for with ?socket=direct" };
  }
  if (typeof SharedWorker === "undefined") return { mode: "direct", why: "this browser has no SharedWorker" };
  if (!("locks" in navigator)) {
    const why = globalThis.isSecureContext
      ? "this browser has no Web Locks"
      : "no Web Locks here (not a secure context)";
    return { mode: "direct", why };
  }
  return { mode: "shared", why: "one WebSocket for every tab, owned by a SharedWorker" };
}

/**
 * Start (or reach) the shared socket worker; returns the transport to give SocketClient.
 * @param {{onTabs: (info: TabsInfo) => void, onTraffic: (traffic: Traffic) => void}} listeners
 * @returns {Connect}
 */
export function connectSharedSocket({ onTabs, onTraffic }) {
  const worker = new SharedWorker(new URL("./shared-worker.js", import.meta.url), {
    type: "module",
    name: SOCKET_WORKER_NAME,
  });
  const port = worker.port;
  /** @type {TransportEvents | null} the socket client's current attempt */
  let current = null;
  /** @param {TabMessage} message */
  const post = (message) => port.postMessage(message);

  port.onmessage = (event) => {
    const message = /** @type {WorkerMessage} */ (event.data);
    switch (message.kind) {
      case "opened":
        current?.onOpen();
        break;
      case "frame":
        current?.onMessage(message.text);
        break;
      case "closed": {
        const events = current;
        current = null;
        events?.onClose(message.code, message.reason);
        break;
      }
      case "tab_count":
        onTabs(message);
        break;
      case "traffic":
        onTraffic(message);
        break;
      default:
        throw new Error(`Unsupported message from the socket worker: ${JSON.stringify(message)}`);
    }
  };

  // Hold this tab's lock first, then introduce the tab: the worker waits on the lock, and a lock
  // it could take at once would read as a tab already gone. The lock is released only when the
  // tab's document goes away (closed, crashed, navigated).
  const tab = randomId();
  /** @type {Promise<void>} */
  const introduced = new Promise((resolve) => {
    navigator.locks.request(TAB_LOCK_PREFIX + tab, () => {
      post({ kind: "introduce", tab });
      resolve();
      return new Promise(() => {}); // held for the tab's whole life
    });
  });
  globalThis.addEventListener("pagehide", () => post({ kind: "bye" }));

  return (_url, events) => {
    current = events;
    introduced.then(() => {
      if (current === events) post({ kind: "open" });
    });
    return {
      send: (text) => post({ kind: "send", text }),
      close: () => {
        if (current === events) current = null;
        post({ kind: "close" });
        // The connection is the shared worker's, kept for the other tabs: nothing of it closed here.
        return Promise.resolve(null);
      },
    };
  };
}

/**
 * The shared transport, falling back to this tab's own WebSocket when the shared worker cannot
 * reach a server the tab can: its first attempt closes without ever opening, and one direct
 * attempt then opens. (A certificate accepted for the page only, e.g. a self-signed one, is not
 * accepted for the worker's connection.) The direct attempt is tried once; if it fails too the
 * server is simply away and the shared transport carries on.
 * @param {Connect} shared  connectSharedSocket's transport
 * @param {(why: string) => void} onDirect  told once, when this tab switches to its own socket
 * @param {Connect} [direct]  the direct transport (connectWebSocket)
 * @returns {Connect}
 */
export function withDirectFallback(shared, onDirect, direct = connectWebSocket) {
  /** @type {"shared" | "probe" | "probing" | "direct" | "settled"} */
  let state = "shared";
  return (url, events) => {
    if (state === "probe") {
      state = "probing";
      return direct(url, {
        ...events,
        onOpen: () => {
          state = "direct";
          onDirect("the shared socket worker could not reach the server; this tab can, with a connection of its own");
          events.onOpen();
        },
        onClose: (code, reason) => {
          if (state === "probing") state = "settled";
          events.onClose(code, reason);
        },
      });
    }
    if (state === "direct") return direct(url, events);
    return shared(url, {
      ...events,
      onOpen: () => {
        state = "settled";
        events.onOpen();
      },
      onClose: (code, reason) => {
        if (state === "shared") state = "probe";
        events.onClose(code, reason);
      },
    });
  };
}
