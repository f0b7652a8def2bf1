// The durable outbox (web/socket/outbox.js) under the socket client: a reliable message is kept
// before it is sent, dropped on its ack, resent with its id after a reconnect, and still there for
// a new SocketClient over the same storage (a reload). Fake storage (a Map) and a fake transport.
// Node's own test runner, no browser: `node --test tests/js/`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SocketClient } from "../../web/socket/client.js";
import { describeWaiting, memoryStorage, Outbox } from "../../web/socket/outbox.js";
import { ClientType, ServerType } from "../../web/socket/protocol.js";

/** @typedef {import("../../web/socket/transport.js").TransportEvents} TransportEvents */
/** @typedef {import("../../web/socket/outbox.js").OutboxEntry} OutboxEntry */

class FakeConnection {
  /** @param {TransportEvents} events */
  constructor(events) {
    this.events = events;
    /** @type {any[]} */
    this.sent = [];
  }

  /** @param {string} text */
  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close() {
    return Promise.resolve({ code: 1000, reason: "", wasClean: true });
  }

  accept() {
    this.events.onOpen();
    this.receive({ type: ServerType.HELLO, client_id: "c-1", peers: 1 });
  }

  /** @param {object} message */
  receive(message) {
    this.events.onMessage(JSON.stringify(message));
  }

  drop() {
    this.events.onClose(1006, "");
  }
}

/**
 * A SocketClient over fake connections and an outbox over `entries` (shared to mimic a reload).
 * @param {Map<string, OutboxEntry>} entries
 */
function fakeClient(entries) {
  /** @type {FakeConnection[]} */
  const connections = [];
  const client = new SocketClient({
    url: "ws://test/ws",
    minDelayMs: 1,
    maxDelayMs: 1,
    outbox: new Outbox(memoryStorage(entries)),
    connect: (_url, events) => {
      const connection = new FakeConnection(events);
      connections.push(connection);
      return connection;
    },
  });
  return { client, last: () => connections[connections.length - 1] };
}

/**
 * @param {string} id
 * @returns {import("../../web/socket/protocol.js").ResultMessage}
 */
const result = (id) => ({
  type: ClientType.RESULT,
  id,
  task: "primes",
  params: { n: 10 },
  result: [2, 3, 5, 7],
  duration_ms: 12,
});

/** Let the outbox's promises settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** @param {FakeConnection} connection */
const resultsSent = (connection) =>
  connection.sent.filter((message) => message.type === ClientType.RESULT).map((message) => message.id);

describe("the durable outbox", () => {
  test("a reliable message is in the outbox before it is sent, and leaves it on its ack", async () => {
    const entries = new Map();
    const { client, last } = fakeClient(entries);
    await client.restored;
    client.connect();
    last().accept();
    const originalSend = last().send.bind(last());
    /** @type {boolean[]} */
    const keptWhenSent = [];
    last().send = (text) => {
      keptWhenSent.push(entries.has(JSON.parse(text).id));
      originalSend(text);
    };
    const acked = client.sendReliable(result("r-1"));
    assert.deepEqual(keptWhenSent, [true]);
    last().receive({ type: ServerType.ACK, id: "r-1", duplicate: false });
    await acked;
    await settle();
    assert.equal(entries.size, 0);
  });

  test("a message still waiting is resent with its id after a reconnect, oldest first", async () => {
    const entries = new Map();
    const { client, last } = fakeClient(entries);
    await client.restored;
    client.connect();
    client.sendReliable(result("r-1"));
    client.sendReliable(result("r-2"));
    last().accept();
    assert.deepEqual(resultsSent(last()), ["r-1", "r-2"]);
    last().drop();
    await new Promise((resolve) => setTimeout(resolve, 5));
    last().accept();
    assert.deepEqual(resultsSent(last()), ["r-1", "r-2"]);
    await settle();
    assert.deepEqual([...entries.keys()], ["r-1", "r-2"]);
  });

  test("it survives a reload: a new SocketClient over the same storage sends it with its id", async () => {
    const entries = new Map();
    const first = fakeClient(entries);
    first.client.sendReliable(result("r-9"));
    await first.client.close();
    await settle();
    assert.equal(entries.size, 1, "close() rejects the promise but keeps the message");

    const second = fakeClient(entries);
    await second.client.restored;
    second.client.connect();
    second.last().accept();
    await settle();
    assert.deepEqual(resultsSent(second.last()), ["r-9"]);
    second.last().receive({ type: ServerType.ACK, id: "r-9", duplicate: true });
    await settle();
    assert.equal(entries.size, 0);
  });

  test("another tab's entry is adopted at hello, and an error that refuses it for good removes it", async () => {
    const entries = new Map();
    const { client, last } = fakeClient(entries);
    await client.restored;
    // another tab of this browser puts a message in the shared store after this one loaded
    await new Outbox(memoryStorage(entries)).put(result("other"));
    client.connect();
    last().accept();
    await settle();
    assert.deepEqual(resultsSent(last()), ["other"]);
    last().receive({ type: ServerType.ERROR, id: "other", name: "invalid_message", message: "no" });
    await settle();
    assert.equal(entries.size, 0);
  });

  test("a storage_unavailable error keeps it for the next try", async () => {
    const entries = new Map();
    const { client, last } = fakeClient(entries);
    await client.restored;
    client.connect();
    last().accept();
    client.sendReliable(result("r-3"));
    last().receive({ type: ServerType.ERROR, id: "r-3", name: "storage_unavailable", message: "later" });
    await settle();
    assert.deepEqual([...entries.keys()], ["r-3"]);
  });

  test("the page's words for what is waiting", () => {
    const at = (/** @type {number} */ savedAt) => ({ id: String(savedAt), message: result("x"), savedAt });
    assert.equal(describeWaiting([], 0), "nothing waiting to be sent");
    assert.equal(describeWaiting([at(0)], 5_000), "1 result waiting to be sent, for 5 s");
    assert.equal(describeWaiting([at(0), at(60_000)], 180_000), "2 results waiting to be sent, the oldest for 3 min");
  });
});
