// What leaves the page after a run (web/share/result-sharing.js): nothing unless the run succeeded
// and the person shares that task's results; otherwise one reliable `result` message, shown as
// shared once the server has acknowledged it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ResultSharing, shareableResult } from "../../web/share/result-sharing.js";
import { ClientType } from "../../web/socket/protocol.js";

/** @typedef {import("../../web/run/run-controller.js").RunRecord} RunRecord */
/** @typedef {import("../../web/run/task-form.js").TaskSchema} TaskSchema */

const TASK = /** @type {TaskSchema} */ (/** @type {unknown} */ ({ name: "primes", params: [] }));

/** @param {Partial<RunRecord>} [overrides] @returns {RunRecord} */
function record(overrides = {}) {
  return {
    task: "primes",
    params: { n: 100 },
    where: "worker",
    ok: true,
    outcome: "ok",
    value: { count: 25 },
    durationMs: 12,
    stats: /** @type {RunRecord["stats"]} */ (/** @type {unknown} */ ({ longestGap: 16 })),
    ...overrides,
  };
}

/** @param {boolean} allowed */
function parts(allowed) {
  /** @type {object[]} */
  const sent = [];
  /** @type {object[]} */
  const previews = [];
  /** @type {object[]} */
  const shown = [];
  const settings = { allows: () => allowed, sent: (/** @type {object} */ message) => previews.push(message) };
  const socket = {
    clientId: "me",
    sendReliable: async (/** @type {object} */ message) => {
      sent.push(message);
    },
  };
  const sharing = new ResultSharing(
    /** @type {any} */ ({ settings, socket, onShared: (/** @type {object} */ result) => shown.push(result) }),
  );
  return { sharing, sent, previews, shown };
}

test("a shared task's successful run is sent once, then shown as this page's", async () => {
  const { sharing, sent, previews, shown } = parts(true);
  sharing.offer(record(), TASK);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(sent.length, 1);
  const message = /** @type {Record<string, unknown>} */ (sent[0]);
  assert.equal(message.type, ClientType.RESULT);
  assert.deepEqual(
    { task: message.task, params: message.params, result: message.result, duration_ms: message.duration_ms },
    { task: "primes", params: { n: 100 }, result: { count: 25 }, duration_ms: 12 },
  );
  assert.equal(typeof message.id, "string");
  assert.deepEqual(previews, [message]);
  assert.deepEqual(shown, [{ ...message, client_id: "me" }]);
});

test("nothing leaves the page for an unshared task, a failed run or an unknown task", () => {
  const unshared = parts(false);
  unshared.sharing.offer(record(), TASK);
  const shared = parts(true);
  shared.sharing.offer(record({ ok: false, outcome: "failed" }), TASK);
  shared.sharing.offer(record(), undefined);
  assert.deepEqual([unshared.sent, unshared.previews, shared.sent, shared.previews], [[], [], [], []]);
});

test("an image is summarized by its size, never sent", () => {
  assert.deepEqual(shareableResult(record({ value: new ArrayBuffer(40) })), { bytes: 40 });
});
