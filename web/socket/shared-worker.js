// The shared socket worker: one WebSocket to /ws for every tab of this browser. Each tab talks to
// it over its own MessagePort (tab-protocol.js) with its own SocketClient on top, so hello, acks,
// resends after a reconnect, broadcasts and the shared job keep working per tab. This worker
// routes: acks and errors to the tab whose id they answer, job chunks to a tab that volunteered,
// broadcasts to all; it shows each tab the results of its siblings (the server does not echo a
// result to the connection that sent it), and gives back a dead tab's chunks. The WebSocket itself
// is opened by transport.js, the one module that touches `WebSocket`.

import { ClientType, ServerType } from "./protocol.js";
import { defaultSocketUrl } from "./client.js";
import { connectWebSocket } from "./transport.js";
import { TAB_LOCK_PREFIX } from "./tab-protocol.js";

/** @typedef {import("./tab-protocol.js").TabMessage} TabMessage */
/** @typedef {import("./tab-protocol.js").WorkerMessage} WorkerMessage */
/** @typedef {import("./transport.js").Transport} Transport */
/**
 * @typedef {object} Tab
 * @property {string} id  the tab's random id (its lock's name)
 * @property {number} number  shown on the page: 1, 2, ... in arrival order
 * @property {MessagePort} port
 * @property {boolean} wanting  its client has an attempt open (between "open" and "close")
 * @property {number} slots  job slots it volunteered (0: not volunteering)
 */
/** @typedef {{type?: unknown, id?: unknown, [key: string]: unknown}} Frame */

const worker = /** @type {SharedWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const URL_OF_WS = defaultSocketUrl();

/** @type {Map<string, Tab>} */
const tabs = new Map();
let tabNumbers = 0;
/** @type {Transport | null} */
let transport = null;
let open = false;
/** @type {string | null} The server's hello on the current connection, replayed to each tab. */
let hello = null;
/** @type {string | null} */
let clientId = null;
/** @type {Map<string, Tab>} Who sent each message id still awaiting its ack or error. */
const owners = new Map();
/** @type {Map<string, Frame>} Results sent and not yet acked, to show the other tabs once stored. */
const results = new Map();
/** @type {Map<string, Tab>} Who computes each chunk this connection holds ("job:chunk"). */
const chunks = new Map();

worker.addEventListener("connect", (event) => {
  const port = event.ports[0];
  port.onmessage = (message) => fromTab(port, /** @type {TabMessage} */ (message.data));
});

/**
 * @param {MessagePort} port
 * @param {TabMessage} message
 */
function fromTab(port, message) {
  if (message.kind === "introduce") {
    arrive(port, message.tab);
    return;
  }
  const tab = [...tabs.values()].find((candidate) => candidate.port === port);
  if (tab === undefined) return; // a tab already declared gone
  switch (message.kind) {
    case "open":
      tab.wanting = true;
      if (open) opened(tab);
      else ensureConnection();
      break;
    case "send":
      toServer(tab, message.text);
      break;
    case "close":
      tab.wanting = false;
      closeIfUnwanted();
      break;
    case "bye":
      leave(tab);
      break;
    default:
      throw new Error(`Unsupported message from a tab: ${JSON.stringify(message)}`);
  }
}

/**
 * A new tab: count it, and wait on its lock, which the browser releases when the tab closes or
 * crashes (a tab cannot be relied on to say goodbye).
 * @param {MessagePort} port
 * @param {string} id
 */
function arrive(port, id) {
  /** @type {Tab} */
  const tab = { id, number: ++tabNumbers, port, wanting: false, slots: 0 };
  tabs.set(id, tab);
  navigator.locks.request(TAB_LOCK_PREFIX + id, async () => leave(tab));
  tabsChanged();
}

/**
 * A tab is gone: forget it, and give its unfinished chunks back to the server's queue.
 * @param {Tab} tab
 */
function leave(tab) {
  if (tabs.get(tab.id) !== tab) return;
  tabs.delete(tab.id);
  tab.port.close();
  for (const [id, owner] of owners) if (owner === tab) owners.delete(id);
  const held = [...chunks].filter(([, holder]) => holder === tab);
  if (tab.slots > 0 || held.length > 0) {
    tab.slots = 0;
    for (const [key] of held) chunks.delete(key);
    // The server knows one volunteer, this connection: leaving requeues everything it holds,
    // and joining again with the remaining tabs' slots gets work flowing to them (chunks they
    // are still computing may be handed out twice; the server counts each chunk once).
    rejoin(true);
  }
  tabsChanged();
  closeIfUnwanted();
}

function tabsChanged() {
  for (const tab of tabs.values()) post(tab, { kind: "tab_count", tabs: tabs.size, tab: tab.number });
  if (open && tabs.size > 0) sendText(null, JSON.stringify({ type: ClientType.TABS, count: tabs.size }));
}

function ensureConnection() {
  if (transport !== null) return;
  transport = connectWebSocket(URL_OF_WS, {
    onOpen: () => {
      open = true;
      for (const tab of tabs.values()) if (tab.wanting) opened(tab);
    },
    onMessage: fromServer,
    onClose: (code, reason) => dropped(code, reason),
  });
}

/** @param {Tab} tab */
function opened(tab) {
  post(tab, { kind: "opened" });
  if (hello !== null) post(tab, { kind: "frame", text: hello });
}

/**
 * @param {number} code
 * @param {string} reason
 */
function dropped(code, reason) {
  transport = null;
  open = false;
  hello = null;
  // The server forgot this connection's volunteering and requeued its chunks; each tab's client
  // resends what was unacknowledged, and rejoins, after its own reconnect.
  chunks.clear();
  owners.clear();
  results.clear();
  for (const tab of tabs.values()) {
    tab.slots = 0;
    if (tab.wanting) {
      tab.wanting = false;
      post(tab, { kind: "closed", code, reason });
    }
  }
}

function closeIfUnwanted() {
  if (transport === null || [...tabs.values()].some((tab) => tab.wanting)) return;
  const current = transport;
  dropped(1000, "no tab needs the connection");
  current.close(1000, "no tab needs the connection");
}

/**
 * A frame from a tab, on its way to the server; job volunteering is summed over the tabs.
 * @param {Tab} tab
 * @param {string} text
 */
function toServer(tab, text) {
  const frame = parse(text);
  if (typeof frame.id === "string") owners.set(frame.id, tab);
  switch (frame.type) {
    case ClientType.RESULT:
      if (typeof frame.id === "string") results.set(frame.id, frame);
      break;
    case ClientType.JOBS_JOIN:
      tab.slots = typeof frame.slots === "number" ? frame.slots : 1;
      rejoin(false);
      traffic("out", text, tab);
      return;
    case ClientType.JOBS_LEAVE: {
      const held = [...chunks].some(([, holder]) => holder === tab);
      tab.slots = 0;
      for (const [key, holder] of chunks) if (holder === tab) chunks.delete(key);
      rejoin(held);
      traffic("out", text, tab);
      return;
    }
    case ClientType.CHUNK_RESULT:
      chunks.delete(`${frame.job_id}:${frame.chunk}`);
      break;
    default:
      break; // every other message goes to the server as the tab wrote it
  }
  sendText(tab, text);
}

/**
 * Tell the server how many chunks this connection takes: the sum of its tabs' slots (capped at
 * the protocol's 16), after a `jobs_leave` when chunks must go back to the queue.
 * @param {boolean} requeue
 */
function rejoin(requeue) {
  const slots = Math.min(
    16,
    [...tabs.values()].reduce((sum, tab) => sum + tab.slots, 0),
  );
  if (requeue || slots === 0) sendText(null, JSON.stringify({ type: ClientType.JOBS_LEAVE }));
  if (slots > 0) sendText(null, JSON.stringify({ type: ClientType.JOBS_JOIN, slots }));
}

/**
 * @param {Tab | null} tab  the tab it is sent for (null: the worker itself)
 * @param {string} text
 */
function sendText(tab, text) {
  if (transport === null || !open) return;
  transport.send(text);
  traffic("out", text, tab);
}

/** @param {string} text */
function fromServer(text) {
  const frame = parse(text);
  /** @type {Tab | null} */
  let target = null;
  switch (frame.type) {
    case ServerType.HELLO:
      hello = text;
      clientId = typeof frame.client_id === "string" ? frame.client_id : null;
      if (tabs.size > 1) sendText(null, JSON.stringify({ type: ClientType.TABS, count: tabs.size }));
      break;
    case ServerType.ACK:
    case ServerType.ERROR:
    case ServerType.PONG:
      target = typeof frame.id === "string" ? (owners.get(frame.id) ?? null) : null;
      if (typeof frame.id === "string" && frame.type !== ServerType.PONG) {
        owners.delete(frame.id);
        const result = results.get(frame.id);
        results.delete(frame.id);
        if (result !== undefined && frame.type === ServerType.ACK && !frame.duplicate && target !== null) {
          showSiblings(target, result);
        }
      }
      break;
    case ServerType.JOB_CHUNK:
      target = volunteerFor();
      if (target !== null) chunks.set(`${frame.job_id}:${frame.chunk}`, target);
      break;
    default:
      break; // peers, peer_result, job_progress, ...: for every tab
  }
  traffic("in", text, target);
  for (const tab of target === null ? tabs.values() : [target]) {
    if (tab.wanting) post(tab, { kind: "frame", text });
  }
}

/** The volunteering tab with the most free slots; null when none volunteers. */
function volunteerFor() {
  let best = null;
  let bestFree = Number.NEGATIVE_INFINITY;
  for (const tab of tabs.values()) {
    if (tab.slots === 0) continue;
    const held = [...chunks.values()].filter((holder) => holder === tab).length;
    if (tab.slots - held > bestFree) {
      best = tab;
      bestFree = tab.slots - held;
    }
  }
  return best;
}

/**
 * The server stored `result` from `sender`; it broadcasts it to the other connections only, so
 * this worker shows it to the sender's sibling tabs itself, shaped as the server's peer_result.
 * @param {Tab} sender
 * @param {Frame} result
 */
function showSiblings(sender, result) {
  const { type: _type, ...fields } = result;
  const text = JSON.stringify({
    type: ServerType.PEER_RESULT,
    result: { ...fields, client_id: clientId ?? "", received_at: Date.now() / 1000 },
  });
  for (const tab of tabs.values()) if (tab !== sender && tab.wanting) post(tab, { kind: "frame", text });
}

/**
 * Show every tab a frame of the connection, and which tab it was for.
 * @param {"in" | "out"} direction
 * @param {string} text
 * @param {Tab | null} tab
 */
function traffic(direction, text, tab) {
  const type = String(parse(text).type ?? "?");
  const size = new TextEncoder().encode(text).length;
  for (const each of tabs.values()) {
    post(each, { kind: "traffic", direction, type, size, time: Date.now(), tab: tab?.number ?? null });
  }
}

/**
 * @param {Tab} tab
 * @param {WorkerMessage} message
 */
function post(tab, message) {
  tab.port.postMessage(message);
}

/**
 * @param {string} text
 * @returns {Frame}
 */
function parse(text) {
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : {};
  } catch {
    return {};
  }
}
