// The shared socket worker: one WebSocket to /ws for every tab of this browser. Each tab talks to
// it over its own MessagePort (tab-protocol.js) with its own SocketClient on top, so hello, acks,
// resends after a reconnect, broadcasts and the shared job keep working per tab. This file is the
// thin entry: it binds `self`'s connect events, the tabs' ports and Web Locks, the clock and the
// WebSocket (transport.js, the one module that touches `WebSocket`) to router.js, which decides
// every delivery.

import { defaultSocketUrl } from "./client.js";
import { newRouter, route } from "./router.js";
import { connectWebSocket } from "./transport.js";

/** @typedef {import("./tab-protocol.js").TabMessage} TabMessage */
/** @typedef {import("./transport.js").Transport} Transport */
/** @typedef {import("./router.js").RouterEvent} RouterEvent */
/** @typedef {import("./router.js").Delivery} Delivery */

const worker = /** @type {SharedWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const URL_OF_WS = defaultSocketUrl();
const router = newRouter();
/** @type {Transport | null} */
let transport = null;

worker.addEventListener("connect", (event) => {
  const port = event.ports[0];
  port.onmessage = (message) => handle({ kind: "tab", port, message: /** @type {TabMessage} */ (message.data) });
});

/** @param {RouterEvent} event */
function handle(event) {
  for (const delivery of route(router, event, Date.now())) deliver(delivery);
}

/** @param {Delivery} delivery */
function deliver(delivery) {
  switch (delivery.to) {
    case "tab":
      /** @type {MessagePort} */ (delivery.port).postMessage(delivery.message);
      break;
    case "socket":
      transport?.send(delivery.text);
      break;
    case "connect":
      transport = connectWebSocket(URL_OF_WS, {
        onOpen: () => handle({ kind: "socket_open" }),
        onMessage: (text) => handle({ kind: "socket_frame", text }),
        onClose: (code, reason) => {
          transport = null;
          handle({ kind: "socket_closed", code, reason });
        },
      });
      break;
    case "disconnect": {
      const current = transport;
      transport = null;
      current?.close(delivery.code, delivery.reason);
      break;
    }
    case "watch":
      // The lock is the tab's for its whole life: the browser grants it here once the tab closed
      // or crashed (a tab cannot be relied on to say goodbye).
      navigator.locks.request(delivery.lock, async () => handle({ kind: "tab_gone", port: delivery.port }));
      break;
    case "release":
      /** @type {MessagePort} */ (delivery.port).close();
      break;
    default:
      throw new Error(`Unsupported delivery from the socket router: ${JSON.stringify(delivery)}`);
  }
}
