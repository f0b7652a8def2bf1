// PythonWorker's side of a person's own code and data, in Node over the fake worker: input()
// answered through onInput into the shared input buffer, cancel waking a waiting worker, and
// bytes params moved (transferred) rather than copied. The real thing runs in
// tests/e2e/test_worker_data.py.

import assert from "node:assert/strict";
import { test } from "node:test";

import { PythonWorker } from "../../worker/client.js";
import { transferables } from "../../worker/python-worker.js";
import { fakeWorkers } from "./fake-worker.js";

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A PythonWorker over one fake worker, as in a cross-origin isolated page. */
function isolatedWorker() {
  const fakes = fakeWorkers();
  const global = /** @type {{crossOriginIsolated?: boolean}} */ (globalThis);
  global.crossOriginIsolated = true;
  try {
    const worker = new PythonWorker({ endpoint: fakes.endpoint, graceMs: 5_000 });
    return { worker, fake: fakes.made[0] };
  } finally {
    delete global.crossOriginIsolated;
  }
}

test("onInput's answer, given later, reaches the waiting worker as UTF-8", async () => {
  const { worker } = isolatedWorker();
  /** @type {string[]} */
  const prompts = [];
  const onInput = async (/** @type {string} */ prompt) => {
    prompts.push(prompt);
    await sleep(5);
    return "Zoë 李白";
  };
  const value = await worker.run("ask", { prompt: "name? " }, { onInput }).result;
  assert.deepEqual(value, { answer: "Zoë 李白" });
  assert.deepEqual(prompts, ["name? "]);
  worker.terminate();
});

test("without onInput, or when it gives null or fails, the worker is told: no answer", async () => {
  const { worker } = isolatedWorker();
  assert.deepEqual(await worker.run("ask", {}).result, { answer: null });
  assert.deepEqual(await worker.run("ask", {}, { onInput: () => null }).result, { answer: null });
  const failing = () => Promise.reject(new Error("the person closed the tab"));
  assert.deepEqual(await worker.run("ask", {}, { onInput: failing }).result, { answer: null });
  worker.terminate();
});

test("cancel while the worker waits for input ends the job on the same worker", async () => {
  const { worker } = isolatedWorker();
  const job = worker.run("ask", {}, { onInput: () => new Promise(() => {}) });
  await sleep(20);
  job.cancel();
  await assert.rejects(job.result, { name: "CancelledError" });
  assert.equal(worker.restarts, 0);
  assert.deepEqual(await worker.run("ask", {}, { onInput: () => "again" }).result, {
    answer: "again",
  });
  worker.terminate();
});

test("ArrayBuffers among the params are transferred with the request, not copied", async () => {
  const { worker, fake } = isolatedWorker();
  const data = new Uint8Array([1, 2, 3]).buffer;
  await worker.run("ask", { data, n: 1 }).result;
  assert.equal(data.byteLength, 0); // detached: it moved to the worker
  assert.equal(fake.transfers.at(-1)?.length, 1);
  worker.terminate();
});

test("transferables lists buffers and the buffers under typed arrays, once each", () => {
  const buffer = new ArrayBuffer(8);
  const view = new Uint8Array(16);
  const found = transferables({ a: buffer, b: new Uint8Array(buffer), c: view, d: "text", e: 3 });
  assert.deepEqual(found, [buffer, view.buffer]);
  const shared = new Int32Array(new SharedArrayBuffer(4));
  assert.deepEqual(transferables({ shared }), []); // shared memory is shared, not moved
});
