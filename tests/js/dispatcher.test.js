// The worker's dispatcher (worker/dispatcher.js) on its own, in Node over the fake Python of
// fake-worker.js: what the page cannot easily provoke through PythonWorker.

import assert from "node:assert/strict";
import { test } from "node:test";

import { FakeWorker, until } from "./fake-worker.js";

/**
 * A fake worker and every reply its dispatcher posts.
 * @param {import("./fake-worker.js").FakeOptions} [options]
 */
function open(options) {
  const worker = new FakeWorker(options);
  /** @type {import("../../worker/protocol.js").WorkerReply[]} */
  const replies = [];
  worker.addEventListener("message", (event) => replies.push(event.data));
  return { worker, replies };
}

test("a request of an unknown type gets a ProtocolError naming it, and the worker serves on", async () => {
  const { worker, replies } = open();
  worker.postMessage(/** @type {any} */ ({ type: "shutdown", id: 7 }), []);
  worker.postMessage({ type: "run", id: 8, task: "echo", params: { a: 1 } }, []);
  await until(() => replies.some((reply) => reply.type === "result"));
  assert.deepEqual(
    replies.filter((reply) => reply.type !== "ready"),
    [
      { type: "error", id: 7, name: "ProtocolError", message: 'Unsupported request type "shutdown"' },
      { type: "result", id: 8, value: { a: 1 } },
    ],
  );
  worker.terminate();
});

test("a failed boot says so once and answers nothing after it", async () => {
  const { worker, replies } = open({ bootFails: true });
  worker.postMessage({ type: "run", id: 1, task: "echo", params: {} }, []);
  await until(() => replies.length > 0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(replies, [{ type: "boot_failed", name: "Error", message: "pyodide.asm.wasm: 404" }]);
});

test("an unawaited rejection during an awaiting run is its crash, unless it is the cancel", async () => {
  const { worker, replies } = open();
  await until(() => replies.length > 0);
  const { dispatcher } = worker;
  assert.equal(dispatcher.unhandled(new Error("not ours")), false, "no run awaits: not the worker's");
  dispatcher.awaitingRun = 3;
  assert.equal(dispatcher.unhandled({ type: "KeyboardInterrupt" }), true);
  assert.equal(dispatcher.awaitingRun, 3, "a cancel is no crash: the run reports it");
  assert.equal(dispatcher.unhandled(new RangeError("memory access out of bounds")), true);
  await until(() => replies.length > 1);
  assert.deepEqual(replies[1], {
    type: "crashed",
    id: 3,
    message: "Python crashed: RangeError: memory access out of bounds",
  });
  worker.terminate();
});
