// PythonWorker's side of a person's own code and data, in Node over a small fake worker: input()
// answered through onInput into the shared input buffer, cancel waking a waiting worker, and
// bytes params moved (transferred) rather than copied. The real thing runs in
// tests/e2e/test_worker_data.py.

import assert from "node:assert/strict";
import { test } from "node:test";

import { PythonWorker } from "../../worker/client.js";
import { transferables } from "../../worker/python-worker.js";
import { ANSWER_OFFSET, InputSlot, InputState, Reply, Request, SIGINT } from "../../worker/protocol.js";

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A worker whose one task, "ask", calls input(prompt) the way worker/console.js does: it posts
 * `input`, then polls the input buffer (and the interrupt buffer) until the page answers.
 */
class AskingWorker {
  constructor() {
    /** @type {Int32Array | null} */
    this.interruptBuffer = null;
    /** @type {Int32Array | null} */
    this.inputBuffer = null;
    /** @type {((event: any) => void)[]} */
    this.listeners = [];
    /** @type {Transferable[][]} the transfer list of every request */
    this.transfers = [];
    setTimeout(
      () =>
        this.reply({
          type: Reply.READY,
          python: "3.14.2",
          pyodide: "fake",
          timings: { importRuntime: 0, loadRuntime: 0, loadWheel: 0, total: 0 },
          capabilities: {
            crossOriginIsolated: true,
            sharedArrayBuffer: true,
            hardwareConcurrency: 2,
            interrupts: true,
          },
          tasks: [],
        }),
      0,
    );
  }

  /** @param {any} reply */
  reply(reply) {
    setTimeout(() => {
      for (const listener of this.listeners) listener({ data: reply });
    }, 0);
  }

  /** @param {any} type @param {any} listener */
  addEventListener(type, listener) {
    if (type === "message") this.listeners.push(listener);
  }

  terminate() {}

  /** @param {any} message @param {Transferable[]} transfer */
  postMessage(message, transfer) {
    this.transfers.push(transfer);
    const request = structuredClone(message, { transfer });
    if (request.type === Request.INIT) {
      this.interruptBuffer = request.interruptBuffer;
      this.inputBuffer = request.inputBuffer;
    } else if (request.type === Request.RUN) {
      void this.ask(request.id, request.params.prompt ?? "?");
    }
  }

  /** @param {number} id @param {string} prompt */
  async ask(id, prompt) {
    const input = /** @type {Int32Array} */ (this.inputBuffer);
    const interrupt = /** @type {Int32Array} */ (this.interruptBuffer);
    Atomics.store(input, InputSlot.STATE, InputState.WAITING);
    this.reply({ type: Reply.INPUT, id, prompt });
    for (;;) {
      await sleep(1); // the real worker blocks in Atomics.wait; Node's main thread may not
      if (Atomics.load(interrupt, 0) === SIGINT) {
        Atomics.store(interrupt, 0, 0);
        this.reply({ type: Reply.CANCELLED, id });
        return;
      }
      const state = Atomics.load(input, InputSlot.STATE);
      if (state === InputState.NO_ANSWER) {
        this.reply({ type: Reply.RESULT, id, value: { answer: null } });
        return;
      }
      if (state === InputState.ANSWERED) {
        const length = Atomics.load(input, InputSlot.LENGTH);
        const bytes = new Uint8Array(input.buffer, ANSWER_OFFSET, length).slice();
        this.reply({ type: Reply.RESULT, id, value: { answer: new TextDecoder().decode(bytes) } });
        return;
      }
    }
  }
}

/** A PythonWorker over one AskingWorker, as in a cross-origin isolated page. */
function isolatedWorker() {
  const fake = new AskingWorker();
  const global = /** @type {{crossOriginIsolated?: boolean}} */ (globalThis);
  global.crossOriginIsolated = true;
  try {
    return { worker: new PythonWorker({ endpoint: () => fake, graceMs: 5_000 }), fake };
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
