// The shared socket worker's routing as a function of its messages: what happens (a tab's port
// message, a tab found gone, the socket opening, a server frame, the socket closing) goes in with
// the time; what to do (post this to that port, send this text to the server, open or close the
// socket, watch a tab's lock, let a port go) comes out. No I/O and no browser global:
// shared-worker.js binds it to `self`, the ports, the Web Locks and the WebSocket, and
// tests/js/router.test.js runs it in Node over plain objects.
//
// What it decides: acks, errors and pongs go to the tab whose id they answer, job chunks to the
// volunteering tab with the most free slots, everything else to every tab; the server does not
// echo a result to the connection that sent it, so the sender's sibling tabs are shown it here;
// the server knows one volunteer (this connection), so the tabs' slots are summed, and a closed
// tab's chunks are given back to the server's queue.

import { ClientType, MAX_JOB_SLOTS, STORED_RESULT_FIELDS, ServerType } from "./protocol.js";
import { TAB_LOCK_PREFIX } from "./tab-protocol.js";

/**
 * @typedef {import("./tab-protocol.js").TabMessage} TabMessage
 * @typedef {import("./tab-protocol.js").WorkerMessage} WorkerMessage
 * @typedef {import("./protocol.js").ClientMessage} ClientMessage
 */

/**
 * A tab's end of its channel to the worker (a MessagePort in the browser, any object in tests):
 * the router only compares it and hands it back in deliveries.
 * @typedef {object} Port
 */

/**
 * What happened, as the router is told it.
 * @typedef {{kind: "tab", port: Port, message: TabMessage}} TabEvent  a message on a tab's port
 * @typedef {{kind: "tab_gone", port: Port}} TabGoneEvent  the tab's lock was released (it closed or crashed)
 * @typedef {{kind: "socket_open"}} SocketOpenEvent  the WebSocket asked for with `connect` opened
 * @typedef {{kind: "socket_frame", text: string}} SocketFrameEvent  a text frame from the server
 * @typedef {{kind: "socket_closed", code: number, reason: string}} SocketClosedEvent  it closed
 *   (not after a `disconnect`, which needs no answer)
 * @typedef {TabEvent | TabGoneEvent | SocketOpenEvent | SocketFrameEvent | SocketClosedEvent} RouterEvent
 */

/**
 * What to do, in this order.
 * @typedef {{to: "tab", port: Port, message: WorkerMessage}} ToTab  post `message` to the port
 * @typedef {{to: "socket", text: string}} ToSocket  send one text frame to the server on the open WebSocket
 * @typedef {{to: "connect"}} Connect  open the WebSocket; report socket_open / socket_frame / socket_closed
 * @typedef {{to: "disconnect", code: number, reason: string}} Disconnect  close the WebSocket
 * @typedef {{to: "watch", port: Port, lock: string}} Watch  wait for the Web Lock `lock`; report
 *   tab_gone for `port` once the browser grants it (the tab that held it is gone)
 * @typedef {{to: "release", port: Port}} Release  close the port of a tab that is gone
 * @typedef {ToTab | ToSocket | Connect | Disconnect | Watch | Release} Delivery
 */

/**
 * @typedef {object} Tab
 * @property {string} id  the tab's random id (its lock's name)
 * @property {number} number  shown on the page: 1, 2, ... in arrival order
 * @property {Port} port
 * @property {boolean} wanting  its client has an attempt open (between "open" and "close")
 * @property {number} slots  job slots it volunteered (0: not volunteering)
 */
/** @typedef {{type?: unknown, id?: unknown, [key: string]: unknown}} Frame */

/**
 * Everything the router remembers between events; only `route` changes it.
 * @typedef {object} RouterState
 * @property {Map<Port, Tab>} tabs  in arrival order
 * @property {number} tabNumbers  the last number given to a tab
 * @property {"closed" | "connecting" | "open"} connection  the WebSocket's state
 * @property {string | null} hello  the server's hello on the current connection, replayed to each tab
 * @property {string | null} clientId  the id that hello gave this connection
 * @property {Map<string, Tab>} owners  who sent each message id still awaiting its ack or error
 * @property {Map<string, Frame>} results  results sent and not yet acked, to show the other tabs once stored
 * @property {Map<string, Tab>} chunks  who computes each chunk this connection holds ("job:chunk")
 */

/**
 * One event's work: the state it changes, the deliveries it adds, and its time.
 * @typedef {{state: RouterState, out: Delivery[], now: number}} Step
 */

const encoder = new TextEncoder();

/**
 * A router with no tab and no connection.
 * @returns {RouterState}
 */
export function newRouter() {
  return {
    tabs: new Map(),
    tabNumbers: 0,
    connection: "closed",
    hello: null,
    clientId: null,
    owners: new Map(),
    results: new Map(),
    chunks: new Map(),
  };
}

/**
 * Route one event: updates `state` and returns what to do, in order.
 * @param {RouterState} state
 * @param {RouterEvent} event
 * @param {number} now  the time, in milliseconds since the epoch (as Date.now())
 * @returns {Delivery[]}
 */
export function route(state, event, now) {
  /** @type {Step} */
  const step = { state, out: [], now };
  switch (event.kind) {
    case "tab":
      fromTab(step, event.port, event.message);
      break;
    case "tab_gone": {
      const tab = state.tabs.get(event.port);
      if (tab !== undefined) leave(step, tab); // else it said bye first
      break;
    }
    case "socket_open":
      state.connection = "open";
      for (const tab of state.tabs.values()) if (tab.wanting) opened(step, tab);
      break;
    case "socket_frame":
      fromServer(step, event.text);
      break;
    case "socket_closed":
      dropped(step, event.code, event.reason);
      break;
    default:
      throw new Error(`Unsupported event for the socket router: ${JSON.stringify(event)}`);
  }
  return step.out;
}

/**
 * @param {Step} step
 * @param {Port} port
 * @param {TabMessage} message
 */
function fromTab(step, port, message) {
  const tab = step.state.tabs.get(port);
  if (message.kind === "introduce") {
    if (tab === undefined) arrive(step, port, message.tab); // a tab introduces itself once
    return;
  }
  // A port whose tab was declared gone (it said bye, or its lock was released) may still have
  // messages on their way.
  if (tab === undefined) return;
  switch (message.kind) {
    case "open":
      tab.wanting = true;
      if (step.state.connection === "open") opened(step, tab);
      else ensureConnection(step);
      break;
    case "send":
      toServer(step, tab, message.text);
      break;
    case "close":
      tab.wanting = false;
      closeIfUnwanted(step);
      break;
    case "bye":
      leave(step, tab);
      break;
    default:
      throw new Error(`Unsupported message from a tab: ${JSON.stringify(message)}`);
  }
}

/**
 * A new tab: count it, and wait on its lock, which the browser releases when the tab closes or
 * crashes (a tab cannot be relied on to say goodbye).
 * @param {Step} step
 * @param {Port} port
 * @param {string} id
 */
function arrive(step, port, id) {
  const { state, out } = step;
  state.tabs.set(port, { id, number: ++state.tabNumbers, port, wanting: false, slots: 0 });
  out.push({ to: "watch", port, lock: TAB_LOCK_PREFIX + id });
  tabsChanged(step);
}

/**
 * A tab is gone: forget it, and give its unfinished chunks back to the server's queue.
 * @param {Step} step
 * @param {Tab} tab
 */
function leave(step, tab) {
  const { state, out } = step;
  state.tabs.delete(tab.port);
  out.push({ to: "release", port: tab.port });
  for (const [id, owner] of state.owners) if (owner === tab) state.owners.delete(id);
  const held = [...state.chunks].filter(([, holder]) => holder === tab);
  if (tab.slots > 0 || held.length > 0) {
    tab.slots = 0;
    for (const [key] of held) state.chunks.delete(key);
    // The server knows one volunteer, this connection: leaving requeues everything it holds,
    // and joining again with the remaining tabs' slots gets work flowing to them (chunks they
    // are still computing may be handed out twice; the server counts each chunk once).
    rejoin(step, true);
  }
  tabsChanged(step);
  closeIfUnwanted(step);
}

/** @param {Step} step */
function tabsChanged(step) {
  const { tabs } = step.state;
  for (const tab of tabs.values()) post(step, tab, { kind: "tab_count", tabs: tabs.size, tab: tab.number });
  if (tabs.size > 0) sendOwn(step, { type: ClientType.TABS, count: tabs.size });
}

/** @param {Step} step */
function ensureConnection(step) {
  if (step.state.connection !== "closed") return;
  step.state.connection = "connecting";
  step.out.push({ to: "connect" });
}

/**
 * @param {Step} step
 * @param {Tab} tab
 */
function opened(step, tab) {
  post(step, tab, { kind: "opened" });
  if (step.state.hello !== null) post(step, tab, { kind: "frame", text: step.state.hello });
}

/**
 * The connection is gone (or about to be closed by this worker).
 * @param {Step} step
 * @param {number} code
 * @param {string} reason
 */
function dropped(step, code, reason) {
  const { state } = step;
  state.connection = "closed";
  state.hello = null;
  // The server forgot this connection's volunteering and requeued its chunks; each tab's client
  // resends what was unacknowledged, and rejoins, after its own reconnect.
  state.chunks.clear();
  state.owners.clear();
  state.results.clear();
  for (const tab of state.tabs.values()) {
    tab.slots = 0;
    if (tab.wanting) {
      tab.wanting = false;
      post(step, tab, { kind: "closed", code, reason });
    }
  }
}

/** @param {Step} step */
function closeIfUnwanted(step) {
  const { state, out } = step;
  if (state.connection === "closed" || [...state.tabs.values()].some((tab) => tab.wanting)) return;
  const reason = "no tab needs the connection";
  dropped(step, 1000, reason);
  out.push({ to: "disconnect", code: 1000, reason });
}

/**
 * A frame from a tab, on its way to the server; job volunteering is summed over the tabs.
 * @param {Step} step
 * @param {Tab} tab
 * @param {string} text
 */
function toServer(step, tab, text) {
  const { state } = step;
  const frame = parse(text);
  const type = typeOf(frame);
  if (typeof frame.id === "string") state.owners.set(frame.id, tab);
  switch (frame.type) {
    case ClientType.RESULT:
      if (typeof frame.id === "string") state.results.set(frame.id, frame);
      break;
    case ClientType.JOBS_JOIN:
      tab.slots = typeof frame.slots === "number" ? frame.slots : 1;
      rejoin(step, false);
      // Not sent as the tab wrote it (the worker sent the tabs' sum), but shown as the tab's.
      traffic(step, "out", text, type, tab);
      return;
    case ClientType.JOBS_LEAVE: {
      const held = [...state.chunks].some(([, holder]) => holder === tab);
      tab.slots = 0;
      for (const [key, holder] of state.chunks) if (holder === tab) state.chunks.delete(key);
      rejoin(step, held);
      traffic(step, "out", text, type, tab);
      return;
    }
    case ClientType.CHUNK_RESULT:
      state.chunks.delete(`${frame.job_id}:${frame.chunk}`);
      break;
    case ClientType.PING:
    case ClientType.JOB_START:
    case ClientType.TABS:
      break; // the server's business alone
    default:
      // Not a type of the protocol (or not JSON): the server answers it with an `error`, which
      // comes back to this tab when the frame had an id.
      break;
  }
  sendText(step, tab, text, type);
}

/**
 * Tell the server how many chunks this connection takes: the sum of its tabs' slots (capped at
 * the protocol's MAX_JOB_SLOTS), after a `jobs_leave` when chunks must go back to the queue.
 * @param {Step} step
 * @param {boolean} requeue
 */
function rejoin(step, requeue) {
  const slots = Math.min(
    MAX_JOB_SLOTS,
    [...step.state.tabs.values()].reduce((sum, tab) => sum + tab.slots, 0),
  );
  if (requeue || slots === 0) sendOwn(step, { type: ClientType.JOBS_LEAVE });
  if (slots > 0) sendOwn(step, { type: ClientType.JOBS_JOIN, slots });
}

/**
 * A message of the worker's own to the server.
 * @param {Step} step
 * @param {ClientMessage} message
 */
function sendOwn(step, message) {
  sendText(step, null, JSON.stringify(message), message.type);
}

/**
 * Send a frame when the connection is open (a tab's client resends what matters after it opens).
 * @param {Step} step
 * @param {Tab | null} tab  the tab it is sent for (null: the worker itself)
 * @param {string} text
 * @param {string} type
 */
function sendText(step, tab, text, type) {
  if (step.state.connection !== "open") return;
  step.out.push({ to: "socket", text });
  traffic(step, "out", text, type, tab);
}

/**
 * @param {Step} step
 * @param {string} text
 */
function fromServer(step, text) {
  const { state } = step;
  const frame = parse(text);
  /** @type {Tab | null} the one tab it is for (null: every tab) */
  let target = null;
  switch (frame.type) {
    case ServerType.HELLO:
      state.hello = text;
      state.clientId = typeof frame.client_id === "string" ? frame.client_id : null;
      // The server counts a connection as one tab until told otherwise.
      if (state.tabs.size > 1) sendOwn(step, { type: ClientType.TABS, count: state.tabs.size });
      break;
    case ServerType.ACK:
    case ServerType.ERROR:
    case ServerType.PONG:
      target = typeof frame.id === "string" ? (state.owners.get(frame.id) ?? null) : null;
      if (typeof frame.id === "string" && frame.type !== ServerType.PONG) {
        state.owners.delete(frame.id);
        const result = state.results.get(frame.id);
        state.results.delete(frame.id);
        // A duplicate ack is for a resend: its first ack already showed the siblings.
        if (result !== undefined && frame.type === ServerType.ACK && !frame.duplicate && target !== null) {
          showSiblings(step, target, result);
        }
      }
      break;
    case ServerType.JOB_CHUNK:
      target = volunteerFor(state);
      if (target !== null) state.chunks.set(`${frame.job_id}:${frame.chunk}`, target);
      break;
    case ServerType.PEERS:
    case ServerType.SERVER:
    case ServerType.PEER_RESULT:
    case ServerType.JOB_PROGRESS:
      break; // for every tab
    default:
      break; // not a type this worker knows (or not JSON): every tab's client decides what it is
  }
  traffic(step, "in", text, typeOf(frame), target);
  for (const tab of target === null ? state.tabs.values() : [target]) {
    if (tab.wanting) post(step, tab, { kind: "frame", text });
  }
}

/**
 * The volunteering tab with the most free slots (the first of equals); null when none volunteers.
 * @param {RouterState} state
 * @returns {Tab | null}
 */
function volunteerFor(state) {
  let best = null;
  let bestFree = Number.NEGATIVE_INFINITY;
  for (const tab of state.tabs.values()) {
    if (tab.slots === 0) continue;
    const held = [...state.chunks.values()].filter((holder) => holder === tab).length;
    if (tab.slots - held > bestFree) {
      best = tab;
      bestFree = tab.slots - held;
    }
  }
  return best;
}

/**
 * The server stored `result` from `sender`; it broadcasts it to the other connections only, so
 * this worker shows it to the sender's sibling tabs itself, shaped as the server's peer_result: a
 * StoredResult (its fields generated from server/protocol.py) of the result message's own fields
 * and the two the server adds when it stores one.
 * @param {Step} step
 * @param {Tab} sender
 * @param {Frame} result
 */
function showSiblings(step, sender, result) {
  /** @type {Record<string, unknown>} */
  const added = { client_id: step.state.clientId ?? "", received_at: step.now / 1000 };
  const stored = Object.fromEntries(
    STORED_RESULT_FIELDS.map((field) => [field, field in added ? added[field] : result[field]]),
  );
  const text = JSON.stringify({ type: ServerType.PEER_RESULT, result: stored });
  for (const tab of step.state.tabs.values()) {
    if (tab !== sender && tab.wanting) post(step, tab, { kind: "frame", text });
  }
}

/**
 * Show every tab a frame of the connection, and which tab it was for.
 * @param {Step} step
 * @param {"in" | "out"} direction
 * @param {string} text
 * @param {string} type
 * @param {Tab | null} tab
 */
function traffic(step, direction, text, type, tab) {
  const size = encoder.encode(text).length;
  for (const each of step.state.tabs.values()) {
    post(step, each, { kind: "traffic", direction, type, size, time: step.now, tab: tab?.number ?? null });
  }
}

/**
 * @param {Step} step
 * @param {Tab} tab
 * @param {WorkerMessage} message
 */
function post(step, tab, message) {
  step.out.push({ to: "tab", port: tab.port, message });
}

/**
 * @param {Frame} frame
 * @returns {string} its `type` as the traffic log shows it ("?" when it has none)
 */
function typeOf(frame) {
  return String(frame.type ?? "?");
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
