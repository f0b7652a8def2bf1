// The socket client (web/socket/client.js) over a fake transport: reconnects and their backoff, reliable
// messages kept across reconnects and resent, acks and errors settling them, close codes surfaced.
// Node's own test runner, no browser: `node --test tests/js/`.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { ClientType, ServerType } from "../../web/socket/protocol.js";
import { SocketClient } from "../../web/socket/client.js";

/** @typedef {import("../../web/socket/transport.js").TransportEvents} TransportEvents */

/** One connection attempt the client made: what it sent, and the server's side to drive. */
class FakeConnection {
  /** @param {string} url @param {TransportEvents} events */
  constructor(url, events) {
    this.url = url;
    this.events = events;
    /** @type {any[]} */
    this.sent = [];
    /** @type {{code: number, reason: string} | null} */
    this.closedWith = null;
  }

  /** @param {string} text */
  send(text) {
    this.sent.push(JSON.parse(text));
  }

  /** @param {number} code @param {string} reason */
  close(code, reason) {
    this.closedWith = { code, reason };
    return Promise.resolve({ code, reason, wasClean: true });
  }

  /** The server accepts the connection and says hello. */
  accept(clientId = "c-1") {
    this.events.onOpen();
    this.receive({ type: ServerType.HELLO, client_id: clientId, peers: 1 });
  }

  /** @param {object} message a message from the server */
  receive(message) {
    this.events.onMessage(JSON.stringify(message));
  }

  /** The connection drops with `code`. */
  drop(code = 1006, reason = "") {
    this.events.onClose(code, reason);
  }

  /** @param {string} type */
  sentOf(type) {
    return this.sent.filter((message) => message.type === type);
  }
}

/** A SocketClient over fake connections, recording its states. */
function fakeClient(options = {}) {
  /** @type {FakeConnection[]} */
  const connections = [];
  /** @type {{state: string, detail: any}[]} */
  const states = [];
  const client = new SocketClient({
    url: "ws://test/ws",
    connect: (url, events) => {
      const connection = new FakeConnection(url, events);
      connections.push(connection);
      return connection;
    },
    onState: (state, detail) => states.push({ state, detail }),
    ...options,
  });
  return { client, connections, states, last: () => connections[connections.length - 1] };
}

/**
 * @param {number} attempt
 * @returns {import("../../web/socket/protocol.js").ChunkResultMessage}
 */
const chunkResult = (attempt) => ({
  type: ClientType.CHUNK_RESULT,
  id: `job-1/${attempt}`,
  job_id: "job-1",
  chunk: attempt,
  result: { inside: 3, samples: 4, estimate: 3 },
});

describe("SocketClient", () => {
  /** @type {import("node:test").TestContext["mock"]} */
  let mock;
  beforeEach((context) => {
    mock = /** @type {import("node:test").TestContext} */ (context).mock;
    mock.timers.enable({ apis: ["setTimeout"] });
  });

  test("opens one connection to the url and reports connecting, then open", () => {
    const { client, connections, states } = fakeClient();
    client.connect();
    connections[0].accept();
    assert.equal(connections.length, 1);
    assert.equal(connections[0].url, "ws://test/ws");
    assert.deepEqual(
      states.map((s) => s.state),
      ["connecting", "open"],
    );
    assert.equal(client.clientId, "c-1");
  });

  test("surfaces the close code and its meaning when the connection drops", () => {
    const { client, last, states } = fakeClient();
    client.connect();
    last().accept();
    last().drop(1009, "too big");
    const dropped = states[states.length - 1];
    assert.equal(dropped.state, "reconnecting");
    assert.equal(dropped.detail.code, 1009);
    assert.equal(dropped.detail.reason, "too big");
    assert.equal(dropped.detail.meaning, "message too big");
  });

  test("waits longer after each failed attempt, doubling up to the cap, jittered into [50%, 100%]", () => {
    mock.method(Math, "random", () => 0.999999);
    const { client, last, states } = fakeClient({ minDelayMs: 100, maxDelayMs: 1000 });
    client.connect();
    for (let i = 0; i < 6; i++) {
      last().drop();
      mock.timers.tick(states[states.length - 1].detail.delayMs);
    }
    const delays = states.filter((s) => s.state === "reconnecting").map((s) => s.detail.delayMs);
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    assert.deepEqual(
      states.filter((s) => s.state === "reconnecting").map((s) => s.detail.attempt),
      [1, 2, 3, 4, 5, 6],
    );
  });

  test("never waits less than half the ceiling", () => {
    mock.method(Math, "random", () => 0);
    const { client, last, states } = fakeClient({ minDelayMs: 100, maxDelayMs: 1000 });
    client.connect();
    last().drop();
    assert.equal(states[states.length - 1].detail.delayMs, 50);
  });

  test("reconnects only when the delay has passed", () => {
    mock.method(Math, "random", () => 0.999999);
    const { client, connections } = fakeClient({ minDelayMs: 100 });
    client.connect();
    connections[0].drop();
    mock.timers.tick(99);
    assert.equal(connections.length, 1);
    mock.timers.tick(1);
    assert.equal(connections.length, 2);
  });

  test("starts the backoff again from the shortest delay once a connection is greeted", () => {
    mock.method(Math, "random", () => 0.999999);
    const { client, last, states } = fakeClient({ minDelayMs: 100, maxDelayMs: 10_000 });
    client.connect();
    last().drop();
    mock.timers.tick(100);
    last().drop();
    mock.timers.tick(200);
    last().accept();
    last().drop();
    assert.equal(states[states.length - 1].detail.delayMs, 100);
    assert.equal(states[states.length - 1].detail.attempt, 1);
  });

  test("keeps an unacknowledged reliable message across reconnects and resends it after hello", async () => {
    const { client, connections, last } = fakeClient({ minDelayMs: 10 });
    client.connect();
    last().accept();
    const acked = client.sendReliable(chunkResult(0));
    assert.equal(connections[0].sentOf(ClientType.CHUNK_RESULT).length, 1);
    last().drop();
    mock.timers.tick(10);
    assert.equal(connections.length, 2);
    assert.equal(connections[1].sent.length, 0, "nothing is sent before the server says hello");
    last().accept("c-2");
    assert.deepEqual(connections[1].sentOf(ClientType.CHUNK_RESULT), [chunkResult(0)]);
    last().receive({ type: ServerType.ACK, id: "job-1/0", duplicate: true });
    assert.deepEqual(await acked, { type: ServerType.ACK, id: "job-1/0", duplicate: true });
  });

  test("a message sent while disconnected goes out after the next hello", () => {
    const { client, last } = fakeClient({ minDelayMs: 10 });
    client.connect();
    client.sendReliable(chunkResult(1));
    assert.equal(last().sent.length, 0);
    last().accept();
    assert.deepEqual(last().sentOf(ClientType.CHUNK_RESULT), [chunkResult(1)]);
  });

  test("an ack clears the message: it is not sent again after a reconnect", async () => {
    const { client, last } = fakeClient({ minDelayMs: 10 });
    client.connect();
    last().accept();
    const acked = client.sendReliable(chunkResult(2));
    last().receive({ type: ServerType.ACK, id: "job-1/2", duplicate: false });
    await acked;
    assert.equal(client.pending.size, 0);
    last().drop();
    mock.timers.tick(10);
    last().accept();
    assert.equal(last().sentOf(ClientType.CHUNK_RESULT).length, 0);
  });

  test("an id that is still pending is stored once: sending it again returns the same promise", async () => {
    const { client, last } = fakeClient();
    client.connect();
    last().accept();
    const first = client.sendReliable(chunkResult(3));
    const second = client.sendReliable(chunkResult(3));
    assert.equal(first, second);
    assert.equal(client.pending.size, 1);
    assert.equal(last().sentOf(ClientType.CHUNK_RESULT).length, 1);
    last().receive({ type: ServerType.ACK, id: "job-1/3", duplicate: false });
    assert.equal((await second).id, "job-1/3");
  });

  test("an error naming the message's id rejects it with the server's words and forgets it", async () => {
    const { client, last } = fakeClient();
    client.connect();
    last().accept();
    const acked = client.sendReliable(chunkResult(4));
    last().receive({ type: ServerType.ERROR, id: "job-1/4", name: "invalid_chunk", message: "no such job" });
    await assert.rejects(acked, { message: "invalid_chunk: no such job" });
    assert.equal(client.pending.size, 0);
  });

  test("close() rejects what is pending, closes with 1000 and does not reconnect", async () => {
    const { client, connections, last, states } = fakeClient({ minDelayMs: 10 });
    client.connect();
    last().accept();
    const acked = client.sendReliable(chunkResult(5));
    client.close();
    await assert.rejects(acked, { message: "socket closed" });
    assert.deepEqual(connections[0].closedWith, { code: 1000, reason: "client closed" });
    assert.equal(states[states.length - 1].state, "closed");
    mock.timers.tick(60_000);
    assert.equal(connections.length, 1);
  });

  test("send() says false and sends nothing until the connection is open", () => {
    const { client, last } = fakeClient();
    assert.equal(client.send({ type: ClientType.PING, id: "p" }), false);
    client.connect();
    assert.equal(client.send({ type: ClientType.PING, id: "p" }), false);
    last().accept();
    assert.equal(client.send({ type: ClientType.PING, id: "p" }), true);
    assert.deepEqual(last().sentOf(ClientType.PING), [{ type: ClientType.PING, id: "p" }]);
  });

  test("events of an abandoned connection are ignored", () => {
    const { client, connections, states } = fakeClient({ minDelayMs: 10 });
    client.connect();
    client.close();
    const seen = states.length;
    connections[0].accept();
    connections[0].drop(1006);
    assert.equal(states.length, seen);
    assert.equal(client.clientId, null);
  });

  test("every server message reaches onMessage and the subscribers, frames are counted both ways", () => {
    /** @type {string[]} */
    const seen = [];
    /** @type {string[]} */
    const frames = [];
    const { client, last } = fakeClient({
      onMessage: (/** @type {{type: string}} */ msg) => seen.push(`page:${msg.type}`),
      onFrame: (/** @type {{direction: string, type: string}} */ frame) =>
        frames.push(`${frame.direction}:${frame.type}`),
    });
    const unsubscribe = client.subscribe((msg) => seen.push(`sub:${msg.type}`));
    client.connect();
    last().accept();
    unsubscribe();
    last().receive({ type: ServerType.PEERS, count: 2 });
    client.send({ type: ClientType.PING });
    assert.deepEqual(seen, ["page:hello", "sub:hello", "page:peers"]);
    assert.deepEqual(frames, ["in:hello", "in:peers", "out:ping"]);
  });

  test("a frame that is not JSON is dropped without breaking the connection", () => {
    const { client, last } = fakeClient();
    client.connect();
    last().accept();
    last().events.onMessage("{not json");
    assert.equal(client.state, "open");
  });
});
