// The shared socket worker's router (web/socket/router.js) in Node over plain objects: tabs are
// `{name}` objects standing for their MessagePorts, the server is the deliveries `to: "socket"`.
// Each test reads as a sentence about what the worker does for the tabs of one browser.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ClientType, FIELDS, MAX_JOB_SLOTS, STORED_RESULT_FIELDS, ServerType } from "../../web/socket/protocol.js";
import { newRouter, route } from "../../web/socket/router.js";
import { TAB_LOCK_PREFIX } from "../../web/socket/tab-protocol.js";

/**
 * @typedef {import("../../web/socket/router.js").Delivery} Delivery
 * @typedef {import("../../web/socket/router.js").RouterEvent} RouterEvent
 * @typedef {import("../../web/socket/tab-protocol.js").TabMessage} TabMessage
 * @typedef {{name: string}} FakePort
 */

const NOW = 1_764_057_600_250;

/** A router, the deliveries of the last event, and the tabs' side of the conversation. */
class World {
  constructor() {
    this.state = newRouter();
    this.now = NOW;
    /** @type {Delivery[]} */
    this.out = [];
  }

  /** @param {RouterEvent} event */
  event(event) {
    this.out = route(this.state, event, this.now);
    return this.out;
  }

  /**
   * A new tab introduces itself.
   * @param {string} name
   * @returns {FakePort}
   */
  tab(name) {
    const port = { name };
    this.fromTab(port, { kind: "introduce", tab: `id-${name}` });
    return port;
  }

  /** @param {FakePort} port @param {TabMessage} message */
  fromTab(port, message) {
    return this.event({ kind: "tab", port, message });
  }

  /** @param {FakePort} port @param {object} message  a protocol message the tab's client sends */
  send(port, message) {
    return this.fromTab(port, { kind: "send", text: JSON.stringify(message) });
  }

  /** @param {object} message  a message from the server */
  server(message) {
    return this.event({ kind: "socket_frame", text: JSON.stringify(message) });
  }

  /** Tabs open their clients; the socket opens and the server says hello. */
  /** @param {FakePort[]} ports */
  connect(...ports) {
    for (const port of ports) this.fromTab(port, { kind: "open" });
    this.event({ kind: "socket_open" });
    return this.server({ type: ServerType.HELLO, client_id: "browser-1", peers: 1 });
  }

  /** The protocol messages sent to the server by the last event. */
  sent() {
    return this.out.flatMap((d) => (d.to === "socket" ? [JSON.parse(d.text)] : []));
  }

  /**
   * The server frames the last event posted to `port`.
   * @param {FakePort} port
   */
  framesTo(port) {
    return this.out.flatMap((d) =>
      d.to === "tab" && d.port === port && d.message.kind === "frame" ? [JSON.parse(d.message.text)] : [],
    );
  }

  /**
   * Every message of the last event to `port`, of one kind.
   * @param {FakePort} port
   * @param {string} kind
   */
  postedTo(port, kind) {
    return this.out.flatMap((d) => (d.to === "tab" && d.port === port && d.message.kind === kind ? [d.message] : []));
  }

  /** @param {string} to */
  deliveries(to) {
    return this.out.filter((d) => d.to === to);
  }
}

const RESULT = {
  type: ClientType.RESULT,
  id: "r-1",
  task: "primes",
  params: { n: 1000 },
  result: { count: 168 },
  duration_ms: 12.5,
};

/** @param {string} jobId @param {number} chunk */
const chunk = (jobId, chunk) => ({
  type: ServerType.JOB_CHUNK,
  job_id: jobId,
  chunk,
  task: "montecarlo_pi",
  params: { samples: 10, seed: chunk },
});

/**
 * A browser of `slots.length` tabs that all opened the connection, tab i volunteering `slots[i]`
 * job slots (0: not volunteering).
 * @param {...number} slots
 * @returns {[World, ...FakePort[]]}
 */
function browser(...slots) {
  const world = new World();
  const tabs = slots.map((_, i) => world.tab(`tab-${i + 1}`));
  world.connect(...tabs);
  slots.forEach((count, i) => {
    if (count > 0) world.send(tabs[i], { type: ClientType.JOBS_JOIN, slots: count });
  });
  return [world, ...tabs];
}

describe("the shared socket worker's router", () => {
  test("a tab that introduces itself is numbered, told the count, and its lock is watched", () => {
    const world = new World();
    const a = world.tab("a");
    assert.deepEqual(world.deliveries("watch"), [{ to: "watch", port: a, lock: `${TAB_LOCK_PREFIX}id-a` }]);
    const b = world.tab("b");
    assert.deepEqual(world.postedTo(a, "tab_count"), [{ kind: "tab_count", tabs: 2, tab: 1 }]);
    assert.deepEqual(world.postedTo(b, "tab_count"), [{ kind: "tab_count", tabs: 2, tab: 2 }]);
    assert.deepEqual(world.sent(), [], "nothing goes to a server that is not connected");
  });

  test("the first tab that opens makes the worker connect, once; an open socket is shared with hello replayed", () => {
    const world = new World();
    const a = world.tab("a");
    const b = world.tab("b");
    assert.deepEqual(world.fromTab(a, { kind: "open" }), [{ to: "connect" }]);
    assert.deepEqual(world.fromTab(b, { kind: "open" }), [], "a connection is already on its way");
    world.event({ kind: "socket_open" });
    assert.deepEqual(world.postedTo(a, "opened"), [{ kind: "opened" }]);
    assert.deepEqual(world.postedTo(b, "opened"), [{ kind: "opened" }]);
    world.server({ type: ServerType.HELLO, client_id: "browser-1", peers: 1 });
    assert.deepEqual(world.sent(), [{ type: ClientType.TABS, count: 2 }], "the server learns it carries 2 tabs");
    assert.equal(world.framesTo(a)[0].type, ServerType.HELLO);

    const c = world.tab("c");
    world.fromTab(c, { kind: "open" });
    assert.deepEqual(world.postedTo(c, "opened"), [{ kind: "opened" }]);
    assert.deepEqual(world.framesTo(c), [{ type: ServerType.HELLO, client_id: "browser-1", peers: 1 }]);
  });

  test("a tab's result goes to the server once, and once acked to its sibling tabs shaped as the server's peer_result", () => {
    const [world, a, b, c] = browser(0, 0, 0);
    world.send(a, RESULT);
    assert.deepEqual(world.sent(), [RESULT]);
    assert.deepEqual(
      [b, c].flatMap((port) => world.framesTo(port)),
      [],
      "nothing is shown before it is stored",
    );

    world.server({ type: ServerType.ACK, id: "r-1", duplicate: false });
    assert.deepEqual(
      world.framesTo(a),
      [{ type: ServerType.ACK, id: "r-1", duplicate: false }],
      "the ack is the sender's",
    );
    const { type: _type, ...fields } = RESULT;
    const peerResult = {
      type: ServerType.PEER_RESULT,
      result: { ...fields, client_id: "browser-1", received_at: NOW / 1000 },
    };
    assert.deepEqual(world.framesTo(b), [peerResult]);
    assert.deepEqual(world.framesTo(c), [peerResult]);
    // Field for field, in order, what server/protocol.py's PeerResultMessage and StoredResult hold.
    const [shown] = world.framesTo(b);
    assert.deepEqual(Object.keys(shown), FIELDS[ServerType.PEER_RESULT]);
    assert.deepEqual(Object.keys(shown.result), STORED_RESULT_FIELDS);
  });

  test("a duplicate ack or an error shows the result to no sibling", () => {
    const [world, a, b] = browser(0, 0);
    world.send(a, RESULT);
    world.server({ type: ServerType.ACK, id: "r-1", duplicate: true });
    assert.deepEqual(world.framesTo(b), []);
    world.send(a, { ...RESULT, id: "r-2" });
    world.server({ type: ServerType.ERROR, id: "r-2", name: "over_budget", message: "later" });
    assert.deepEqual(world.framesTo(b), []);
    assert.equal(world.framesTo(a)[0].name, "over_budget");
  });

  test("acks, errors and pongs go only to the tab whose id they answer; broadcasts go to every open tab", () => {
    const world = new World();
    const [a, b, idle] = [world.tab("a"), world.tab("b"), world.tab("idle")];
    world.connect(a, b);
    world.send(b, { type: ClientType.PING, id: "p-1" });
    world.server({ type: ServerType.PONG, id: "p-1" });
    assert.deepEqual(world.framesTo(a), []);
    assert.deepEqual(world.framesTo(b), [{ type: ServerType.PONG, id: "p-1" }]);

    world.server({ type: ServerType.PEERS, count: 2, connections: 2, tabs: 4 });
    assert.equal(world.framesTo(a).length, 1);
    assert.equal(world.framesTo(b).length, 1);
    assert.equal(world.framesTo(idle).length, 0, "a tab whose client has not opened gets no frame");
  });

  test("every frame is shown to every tab as traffic: its type, size, time and the tab it was for", () => {
    const [world, a, b] = browser(0, 0);
    const ping = JSON.stringify({ type: ClientType.PING, id: "p-1" });
    world.fromTab(b, { kind: "send", text: ping });
    const traffic = { kind: "traffic", direction: "out", type: "ping", size: ping.length, time: NOW, tab: 2 };
    assert.deepEqual(world.postedTo(a, "traffic"), [traffic]);
    assert.deepEqual(world.postedTo(b, "traffic"), [traffic]);
    world.event({ kind: "socket_frame", text: "not json" });
    assert.deepEqual(world.postedTo(a, "traffic"), [
      { kind: "traffic", direction: "in", type: "?", size: 8, time: NOW, tab: null },
    ]);
  });

  test("job volunteering is summed over the tabs, and capped at the protocol's MAX_JOB_SLOTS", () => {
    const [world, a, b] = browser(0, 0);
    world.send(a, { type: ClientType.JOBS_JOIN, slots: 2 });
    assert.deepEqual(world.sent(), [{ type: ClientType.JOBS_JOIN, slots: 2 }]);
    world.send(b, { type: ClientType.JOBS_JOIN, slots: 3 });
    assert.deepEqual(world.sent(), [{ type: ClientType.JOBS_JOIN, slots: 5 }]);
    world.send(b, { type: ClientType.JOBS_JOIN, slots: 15 });
    assert.equal(MAX_JOB_SLOTS, 16);
    assert.deepEqual(world.sent(), [{ type: ClientType.JOBS_JOIN, slots: MAX_JOB_SLOTS }]);
    world.send(a, { type: ClientType.JOBS_LEAVE });
    assert.deepEqual(world.sent(), [{ type: ClientType.JOBS_JOIN, slots: 15 }], "holding no chunk, no requeue");
    world.send(b, { type: ClientType.JOBS_LEAVE });
    assert.deepEqual(world.sent(), [{ type: ClientType.JOBS_LEAVE }]);
  });

  test("a job chunk goes to the volunteering tab with the most free slots", () => {
    const [world, a, b, c] = browser(1, 2, 0);
    world.server(chunk("j", 0));
    assert.deepEqual(
      [a, b, c].map((port) => world.framesTo(port).length),
      [0, 1, 0],
    );
    world.server(chunk("j", 1));
    assert.deepEqual(
      [a, b, c].map((port) => world.framesTo(port).length),
      [1, 0, 0],
      "equals: the first",
    );
    world.send(b, { type: ClientType.CHUNK_RESULT, id: "j/0", job_id: "j", chunk: 0, result: {} });
    world.server(chunk("j", 2));
    assert.deepEqual(
      [a, b, c].map((port) => world.framesTo(port).length),
      [0, 1, 0],
      "an answered chunk frees its slot",
    );
  });

  test("a closed tab's job chunks are returned: the worker leaves and joins again with the others' slots", () => {
    const [world, a, b] = browser(1, 1);
    world.server(chunk("j", 0));
    world.server(chunk("j", 1));
    assert.equal(world.framesTo(b).length, 1, "b holds chunk 1");

    world.event({ kind: "tab_gone", port: b });
    assert.deepEqual(world.deliveries("release"), [{ to: "release", port: b }]);
    assert.deepEqual(world.sent(), [
      { type: ClientType.JOBS_LEAVE },
      { type: ClientType.JOBS_JOIN, slots: 1 },
      { type: ClientType.TABS, count: 1 },
    ]);
    assert.deepEqual(world.postedTo(a, "tab_count"), [{ kind: "tab_count", tabs: 1, tab: 1 }]);
    assert.deepEqual(world.event({ kind: "tab_gone", port: b }), [], "a tab leaves once");
  });

  test("a tab that leaves the job holding chunks gives them back", () => {
    const [world, a] = browser(2, 1);
    world.server(chunk("j", 0));
    assert.equal(world.framesTo(a).length, 1, "a holds chunk 0");
    world.send(a, { type: ClientType.JOBS_LEAVE });
    assert.deepEqual(world.sent(), [{ type: ClientType.JOBS_LEAVE }, { type: ClientType.JOBS_JOIN, slots: 1 }]);
  });

  test("the last tab that no longer wants the connection closes it; a tab that said bye is forgotten", () => {
    const [world, a, b] = browser(0, 0);
    world.fromTab(a, { kind: "close" });
    assert.deepEqual(world.deliveries("disconnect"), []);
    world.fromTab(b, { kind: "bye" });
    assert.deepEqual(world.deliveries("disconnect"), [
      { to: "disconnect", code: 1000, reason: "no tab needs the connection" },
    ]);
    assert.deepEqual(world.fromTab(b, { kind: "open" }), [], "messages still on their way from a gone tab");
    assert.deepEqual(world.fromTab(a, { kind: "open" }), [{ to: "connect" }]);
  });

  test("a dropped connection tells every open tab, which reconnect and resend on their own", () => {
    const world = new World();
    const [a, b] = [world.tab("a"), world.tab("b")];
    world.connect(a);
    world.send(a, RESULT);
    world.event({ kind: "socket_closed", code: 1006, reason: "" });
    assert.deepEqual(world.postedTo(a, "closed"), [{ kind: "closed", code: 1006, reason: "" }]);
    assert.deepEqual(world.postedTo(b, "closed"), []);
    world.connect(a);
    world.server({ type: ServerType.ACK, id: "r-1", duplicate: false });
    assert.deepEqual(world.framesTo(b), [], "the result pending on the old connection is forgotten");
  });

  test("a message of an unknown type goes from a tab to the server, and from the server to every tab", () => {
    const [world, a, b] = browser(0, 0);
    world.send(a, { type: "from_the_future", id: "f-1" });
    assert.deepEqual(world.sent(), [{ type: "from_the_future", id: "f-1" }]);
    world.server({ type: "error", id: "f-1", name: "unknown_type", message: "?" });
    assert.equal(world.framesTo(a).length, 1, "its error comes back to the sender");
    assert.equal(world.framesTo(b).length, 0);
    world.server({ type: "news_from_the_future" });
    assert.equal(world.framesTo(a).length, 1);
    assert.equal(world.framesTo(b).length, 1);
  });

  test("a port message or an event it does not know is an error, not silence", () => {
    const world = new World();
    const a = world.tab("a");
    assert.throws(() => world.fromTab(a, /** @type {any} */ ({ kind: "shout" })), /Unsupported message from a tab/);
    assert.throws(() => world.event(/** @type {any} */ ({ kind: "earthquake" })), /Unsupported event/);
  });
});
