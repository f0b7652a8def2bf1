// The worker's dispatcher (worker/dispatcher.js) on its own, in Node over the fake Python of
// fake-worker.js: what the page cannot easily provoke through PythonWorker.

import assert from "node:assert/strict";
import { test } from "node:test";

import { FakeWorker, until } from "./fake-worker.js";

/**
 * A fake worker, sent the page's `init` (as PythonWorker sends it, first), and every reply its
 * dispatcher posts.
 * @param {import("./fake-worker.js").FakeOptions} [options]
 * @param {{modules?: string[], packages?: string[]}} [code]  the developer's own code
 */
function open(options, code = {}) {
  const worker = new FakeWorker(options);
  /** @type {import("../../worker/protocol.js").WorkerReply[]} */
  const replies = [];
  worker.addEventListener("message", (event) => replies.push(event.data));
  worker.postMessage({ type: "init", interruptBuffer: null, inputBuffer: null, startedBuffer: null, ...code }, []);
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

test("the boot waits for the page's init and loads its modules before ready", async () => {
  const worker = new FakeWorker();
  /** @type {import("../../worker/protocol.js").WorkerReply[]} */
  const replies = [];
  worker.addEventListener("message", (event) => replies.push(event.data));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(replies.length, 0, "no ready before init: the page's own code is not loaded yet");
  worker.postMessage({ type: "call", id: 1, function: "mymod.add", args: [1, 2], kwargs: {} }, []);
  const url = "http://page.test/mymod.py";
  worker.postMessage(
    { type: "init", interruptBuffer: null, inputBuffer: null, startedBuffer: null, modules: [url] },
    [],
  );
  await until(() => replies.length === 2);
  assert.equal(replies[0].type, "ready");
  assert.equal(typeof (/** @type {any} */ (replies[0]).timings.loadUserCode), "number");
  assert.deepEqual(replies[1], { type: "result", id: 1, value: 3 });
  worker.terminate();
});

test("a module that cannot be fetched fails the boot with a UserCodeError naming its URL", async () => {
  const url = "http://page.test/missing.py";
  const { worker, replies } = open({}, { modules: [url] });
  await until(() => replies.length > 0);
  assert.deepEqual(replies, [
    { type: "boot_failed", name: "UserCodeError", message: `could not fetch module ${url}: HTTP 404 Not Found` },
  ]);
  worker.terminate();
});

test("a call posts progress, output and its result; bytes come back transferred", async () => {
  const { worker, replies } = open({}, { modules: ["http://page.test/mymod.py"] });
  /** @param {import("../../worker/protocol.js").CallRequest} request @param {Transferable[]} [transfer] */
  const call = async (request, transfer = []) => {
    worker.postMessage(request, transfer); // one at a time, as the page sends them
    await until(() => replies.some((reply) => reply.type === "result" && reply.id === request.id));
    return replies.filter((reply) => "id" in reply && reply.id === request.id);
  };
  const counted = await call({ type: "call", id: 1, function: "mymod.count", args: [3], kwargs: {} });
  assert.deepEqual(
    counted.map((reply) => reply.type),
    ["progress", "progress", "progress", "stdout", "result"],
  );
  const added = await call({ type: "call", id: 2, function: "mymod.add", args: [1, 2], kwargs: { scale: 10 } });
  assert.deepEqual(added, [{ type: "result", id: 2, value: 30 }]);
  const bytes = new Uint8Array([1, 2, 3]).buffer;
  const [reversed] = await call({ type: "call", id: 3, function: "mymod.reverse", args: [bytes], kwargs: {} }, [bytes]);
  const value = /** @type {{value: unknown}} */ (reversed).value;
  assert.ok(value instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(value)], [3, 2, 1]);
  worker.terminate();
});

test("a call of a module or function nobody gave is an error reply of its own name", async () => {
  const { worker, replies } = open({}, { modules: ["http://page.test/mymod.py"] });
  worker.postMessage({ type: "call", id: 1, function: "other.fn", args: [], kwargs: {} }, []);
  worker.postMessage({ type: "call", id: 2, function: "mymod.nope", args: [], kwargs: {} }, []);
  await until(() => replies.filter((reply) => reply.type === "error").length === 2);
  const errors = replies.flatMap((reply) => (reply.type === "error" ? [[reply.id, reply.name]] : []));
  assert.deepEqual(errors, [
    [1, "MissingModuleError"],
    [2, "MissingFunctionError"],
  ]);
  worker.terminate();
});
