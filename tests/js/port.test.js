// The page's shared socket falls back to its own WebSocket (web/socket/port.js withDirectFallback)
// only when the shared worker never reached a server that the tab itself can reach.

import assert from "node:assert/strict";
import { test } from "node:test";
import { withDirectFallback } from "../../web/socket/port.js";

/** @typedef {import("../../web/socket/transport.js").TransportEvents} TransportEvents */

/**
 * A transport whose attempts open or fail as `outcomes` says, in order; records its attempts.
 * @param {string} name
 * @param {boolean[]} outcomes  true: the attempt opens; false: it closes with 1006 unopened
 * @param {string[]} log
 * @returns {import("../../web/socket/transport.js").Connect}
 */
function scripted(name, outcomes, log) {
  return (_url, events) => {
    const opens = outcomes.shift() ?? false;
    log.push(`${name}:${opens ? "open" : "fail"}`);
    if (opens) events.onOpen();
    else events.onClose(1006, "");
    return { send: () => {}, close: () => Promise.resolve(null) };
  };
}

/** @type {TransportEvents} */
const quiet = { onOpen: () => {}, onMessage: () => {}, onClose: () => {} };

test("a shared worker that cannot connect, where the tab can, hands the tab its own socket", () => {
  const log = /** @type {string[]} */ ([]);
  const told = /** @type {string[]} */ ([]);
  const connect = withDirectFallback(
    scripted("shared", [false], log),
    (why) => told.push(why),
    scripted("direct", [true, true], log),
  );
  for (let attempt = 0; attempt < 3; attempt++) connect("wss://class.test/ws", quiet);
  assert.deepEqual(log, ["shared:fail", "direct:open", "direct:open"]);
  assert.equal(told.length, 1);
  assert.match(told[0], /could not reach the server/);
});

test("a server that is away is tried directly once, then the shared socket carries on", () => {
  const log = /** @type {string[]} */ ([]);
  const told = /** @type {string[]} */ ([]);
  const shared = scripted("shared", [false, false, true], log);
  const connect = withDirectFallback(shared, (why) => told.push(why), scripted("direct", [false], log));
  for (let attempt = 0; attempt < 4; attempt++) connect("ws://x/ws", quiet);
  assert.deepEqual(log, ["shared:fail", "direct:fail", "shared:fail", "shared:open"]);
  assert.deepEqual(told, []);
});

test("a shared socket that opened once never falls back", () => {
  const log = /** @type {string[]} */ ([]);
  const connect = withDirectFallback(
    scripted("shared", [true, false, false], log),
    () => {},
    scripted("direct", [true], log),
  );
  for (let attempt = 0; attempt < 3; attempt++) connect("ws://x/ws", quiet);
  assert.deepEqual(log, ["shared:open", "shared:fail", "shared:fail"]);
});
