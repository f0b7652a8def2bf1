// What a tab and the shared socket worker (shared-worker.js) say over the tab's MessagePort,
// defined once. The server's own messages travel inside as text frames, untouched; everything
// here is about the port itself. Imported by shared-worker.js and port.js; no globals.
//
// tab -> worker: TabHello first (once its liveness lock is held), then Open / Send / Close as its
//                SocketClient opens, sends and closes; Bye on pagehide.
// worker -> tab: Opened / Frame / Closed for its SocketClient; TabsInfo and Traffic for the panel.

/** The Web Lock a tab holds for as long as it lives; the worker waits on it to notice a dead tab. */
export const TAB_LOCK_PREFIX = "offload-tab-";
/** The name of the one shared worker, so every tab reaches the same instance. */
export const SOCKET_WORKER_NAME = "offload-socket";

/**
 * @typedef {{kind: "introduce", tab: string}} TabHello  `tab`: a random id; its lock is TAB_LOCK_PREFIX + tab
 * @typedef {{kind: "open"}} Open  the tab's client wants the connection (a new attempt)
 * @typedef {{kind: "send", text: string}} Send  one text frame for the server
 * @typedef {{kind: "close"}} Close  the tab's client gave up this attempt
 * @typedef {{kind: "bye"}} Bye  the tab is going away
 * @typedef {TabHello | Open | Send | Close | Bye} TabMessage
 *
 * @typedef {{kind: "opened"}} Opened  the shared connection is open for this tab
 * @typedef {{kind: "frame", text: string}} Frame  a server frame meant for this tab
 * @typedef {{kind: "closed", code: number, reason: string}} Closed  the connection closed
 * @typedef {{kind: "tab_count", tabs: number, tab: number}} TabsInfo  how many tabs share the
 *   connection, and this tab's number (1, 2, ... in the order tabs arrived)
 * @typedef {{kind: "traffic", direction: "in" | "out", type: string, size: number, time: number,
 *            tab: number | null}} Traffic  one frame on the connection, and the tab it came from or
 *   went to (null: every tab)
 * @typedef {Opened | Frame | Closed | TabsInfo | Traffic} WorkerMessage
 */
