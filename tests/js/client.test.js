// PythonWorker over the real worker dispatcher and a fake Python (fake-worker.js), in Node:
// queueing, cancel and its escalation, crash replacement, boot failure, unsendable requests and
// deadlines, without a browser or Pyodide.
// The same behaviours are proven against real Pyodide in tests/e2e/test_worker_client.py.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import {
  CancelledError,
  PythonError,
  PythonWorker,
  RequestError,
  TimeoutError,
  WorkerCrashedError,
} from "../../worker/client.js";
import { MAX_GRACE_PERIODS } from "../../worker/python-worker.js";
import { Request } from "../../worker/protocol.js";
import { fakeWorkers, rejection, until } from "./fake-worker.js";

/** @typedef {import("./fake-worker.js").FakeOptions} FakeOptions */

/** @type {PythonWorker[]} */
const started = [];

/**
 * A PythonWorker over fakes; `isolated` gives it an interrupt buffer, as a cross-origin isolated
 * page would (the client reads `crossOriginIsolated` once, when it is made).
 * @param {{isolated?: boolean, graceMs?: number, fake?: FakeOptions}} [options]
 */
function start({ isolated = false, graceMs = 30, fake = {} } = {}) {
  const fakes = fakeWorkers(fake);
  const global = /** @type {{crossOriginIsolated?: boolean}} */ (globalThis);
  global.crossOriginIsolated = isolated;
  try {
    const worker = new PythonWorker({ endpoint: fakes.endpoint, graceMs });
    started.push(worker);
    return { worker, made: fakes.made };
  } finally {
    delete global.crossOriginIsolated;
  }
}

afterEach(() => {
  for (const worker of started.splice(0)) worker.terminate();
});

test("ready reports the worker's tasks, and a job resolves with the task's value", async () => {
  const { worker } = start();
  const info = await worker.ready;
  assert.ok(info.tasks.some((task) => task.name === "echo"));
  assert.deepEqual(await worker.run("echo", { a: [1, 2] }).result, { a: [1, 2] });
});

test("a warm-up report is kept as worker.warmup and disturbs no job", async () => {
  const { worker } = start({ fake: { warms: true } });
  const plain = start().worker;
  assert.deepEqual(await worker.run("echo", { a: 1 }).result, { a: 1 });
  // The job's request ended the warm-up: the first request goes before the warm-up's next step.
  await until(() => worker.warmup !== null);
  const { type, steps, of, stoppedBy } = /** @type {import("../../worker/protocol.js").WarmedReply} */ (worker.warmup);
  assert.deepEqual({ type, of, stoppedBy }, { type: "warmed", of: 200, stoppedBy: "request" });
  assert.ok(steps < of);
  assert.deepEqual(await plain.run("echo", { b: 2 }).result, { b: 2 });
  assert.equal(plain.warmup, null);
});

test("jobs run before boot wait for it, then run one at a time in the order of run calls", async () => {
  const { worker, made } = start({ fake: { bootMs: 20 } });
  const first = worker.run("count", { to: 3 });
  const second = worker.run("echo", { n: 2 });
  const third = worker.run("count", { to: 1 });
  assert.equal(worker.pendingCount, 3);
  const values = await Promise.all([first.result, second.result, third.result]);
  assert.deepEqual(values, [{ counted: 3 }, { n: 2 }, { counted: 1 }]);
  assert.deepEqual(made[0].started, ["count", "echo", "count"]);
  // The worker got init first, then each run only after the previous one finished.
  assert.deepEqual(
    made[0].received.map((request) => request.type),
    [Request.INIT, Request.RUN, Request.RUN, Request.RUN],
  );
});

test("progress and printed output reach the job's callbacks", async () => {
  const { worker } = start();
  /** @type {[number, number][]} */
  const progress = [];
  /** @type {string[]} */
  const printed = [];
  await worker.run(
    "count",
    { to: 4 },
    {
      onProgress: (done, total) => progress.push([done, total]),
      onStdout: (text) => printed.push(text),
    },
  ).result;
  assert.deepEqual(progress, [
    [1, 4],
    [2, 4],
    [3, 4],
    [4, 4],
  ]);
  assert.deepEqual(printed, ["counted to 4\n"]);
});

test("a Python exception rejects with PythonError and the worker runs the next job", async () => {
  const { worker } = start();
  const failed = await rejection(worker.run("fail", {}).result);
  assert.ok(failed instanceof PythonError);
  assert.equal(failed.type, "ValueError");
  assert.equal(failed.message, "ValueError: bad value");
  assert.deepEqual(await worker.run("echo", { x: 1 }).result, { x: 1 });
});

test("cancelling a queued job rejects it at once and it never reaches the worker", async () => {
  const { worker, made } = start();
  const running = worker.run("count", { to: 5 });
  const queued = worker.run("echo", { never: true });
  queued.cancel();
  assert.ok((await rejection(queued.result)) instanceof CancelledError);
  assert.deepEqual(await running.result, { counted: 5 });
  assert.deepEqual(made[0].started, ["count"]);
  assert.equal(worker.restarts, 0);
});

test("an aborted signal cancels its job, before or after run", async () => {
  const { worker } = start();
  const early = worker.run("echo", {}, { signal: AbortSignal.abort() });
  assert.equal((await rejection(early.result)).name, "CancelledError");
  const controller = new AbortController();
  let running = false;
  const job = worker.run(
    "count",
    { to: 1000 },
    {
      signal: controller.signal,
      onProgress: () => {
        running = true;
      },
    },
  );
  await until(() => running);
  controller.abort();
  assert.equal((await rejection(job.result)).name, "CancelledError");
});

test("with an interrupt buffer, cancel stops the running task and the same worker runs on", async () => {
  const { worker, made } = start({ isolated: true });
  assert.equal(worker.cancelMode, "interrupt");
  let running = false;
  const job = worker.run(
    "count",
    { to: 1000 },
    {
      onProgress: () => {
        running = true;
      },
    },
  );
  await until(() => running);
  job.cancel();
  assert.ok((await rejection(job.result)) instanceof CancelledError);
  assert.deepEqual(await worker.run("echo", { after: 1 }).result, { after: 1 });
  assert.equal(worker.restarts, 0);
  assert.equal(made.length, 1);
});

test("an interrupt the task ignores escalates after graceMs: the worker is replaced", async () => {
  const { worker, made } = start({ isolated: true, graceMs: 20 });
  const job = worker.run("block", {});
  const next = worker.run("echo", { queued: true });
  await until(() => made[0].started.includes("block"));
  const asked = performance.now();
  job.cancel();
  assert.equal((await rejection(job.result)).name, "CancelledError");
  assert.ok(performance.now() - asked >= 15, "the interrupt was given its grace period first");
  assert.deepEqual(await next.result, { queued: true });
  assert.equal(worker.restarts, 1);
  assert.equal(worker.lastRestartReason, "a cancelled job ran on for 20 ms after the interrupt");
  assert.equal(made.length, 2);
  assert.ok(made[0].terminated);
  assert.deepEqual(made[1].started, ["echo"]);
});

test("a cancelled job its busy worker has not begun waits past graceMs, then ends there, same worker", async () => {
  // The worker gets to the job halfway between two grace periods' ends (60 and 120 ms): a busy
  // machine's stall shifts both alike, and the cancel's reply must come before the next check.
  const { worker, made } = start({ isolated: true, graceMs: 60, fake: { busyAfterBootMs: 90 } });
  await worker.ready;
  const asked = performance.now();
  const job = worker.run("count", { to: 1000 });
  job.cancel();
  assert.equal((await rejection(job.result)).name, "CancelledError");
  assert.ok(performance.now() - asked >= 80, "it waited for the worker to get to the job");
  assert.equal(worker.restarts, 0);
  assert.equal(made.length, 1);
  assert.deepEqual(made[0].started, ["count"]);
});

test("a worker that never begins a cancelled job is replaced after MAX_GRACE_PERIODS", async () => {
  const { worker, made } = start({ isolated: true, graceMs: 5, fake: { busyAfterBootMs: 60_000 } });
  await worker.ready;
  const asked = performance.now();
  const job = worker.run("count", { to: 1000 });
  job.cancel();
  assert.equal((await rejection(job.result)).name, "CancelledError");
  assert.ok(performance.now() - asked >= 5 * MAX_GRACE_PERIODS - 5);
  assert.equal(worker.restarts, 1);
  assert.equal(worker.lastRestartReason, `the worker did not begin a cancelled job within ${5 * MAX_GRACE_PERIODS} ms`);
  assert.ok(made[0].terminated);
});

test("without an interrupt buffer, cancel replaces the worker at once", async () => {
  const { worker, made } = start({ isolated: false, graceMs: 10_000 });
  assert.equal(worker.cancelMode, "restart");
  let running = false;
  const job = worker.run(
    "count",
    { to: 1000 },
    {
      onProgress: () => {
        running = true;
      },
    },
  );
  await until(() => running);
  job.cancel();
  assert.equal((await rejection(job.result)).name, "CancelledError");
  assert.equal(worker.restarts, 1);
  assert.ok(made[0].terminated);
  assert.deepEqual(await worker.run("echo", { y: 2 }).result, { y: 2 });
});

for (const [how, task] of [
  ["a crashed reply", "crash"],
  ["the worker's error event", "die"],
]) {
  test(`after ${how} the running job rejects with WorkerCrashedError and queued jobs run on a new worker`, async () => {
    const { worker, made } = start();
    assert.equal(worker.lastRestartReason, null);
    const doomed = worker.run(task, {});
    const queued = [worker.run("echo", { i: 1 }), worker.run("echo", { i: 2 })];
    const error = await rejection(doomed.result);
    assert.ok(error instanceof WorkerCrashedError);
    assert.equal(worker.lastRestartReason, error.message, "the crash's own message says why");
    assert.deepEqual(await Promise.all(queued.map((job) => job.result)), [{ i: 1 }, { i: 2 }]);
    assert.equal(worker.restarts, 1);
    assert.deepEqual(made[1].started, ["echo", "echo"]);
  });
}

test("a failed boot rejects ready and every job, queued or later", async () => {
  const { worker, made } = start({ fake: { bootFails: true } });
  const queued = worker.run("echo", {});
  const ready = await rejection(worker.ready);
  assert.ok(ready instanceof WorkerCrashedError);
  assert.match(ready.message, /could not start: Error: pyodide\.asm\.wasm: 404/);
  assert.equal((await rejection(queued.result)).name, "WorkerCrashedError");
  assert.equal((await rejection(worker.run("echo", {}).result)).name, "WorkerCrashedError");
  assert.equal(made.length, 1, "a boot failure is not retried: it would fail the same way");
});

test("a param that cannot be cloned rejects that job with RequestError and the next job runs", async () => {
  const { worker, made } = start();
  const bad = worker.run("echo", { ok: 1, callback: () => {} });
  const next = worker.run("echo", { fine: true });
  const refused = await rejection(bad.result);
  assert.ok(refused instanceof RequestError);
  assert.match(refused.message, /param "callback" cannot be sent to a worker \(a function/);
  assert.equal(/** @type {Error} */ (refused.cause).name, "DataCloneError");
  assert.deepEqual(await next.result, { fine: true });
  assert.deepEqual(await worker.run("echo", { later: true }).result, { later: true });
  assert.equal(worker.restarts, 0);
  assert.deepEqual(made[0].started, ["echo", "echo"]);
});

test("a timeout rejects the job with TimeoutError, whether it was running or still queued", async () => {
  const { worker } = start({ isolated: true });
  const running = worker.run("count", { to: 1000 }, { timeout: 15 });
  const queued = worker.run("echo", {}, { timeout: 5 });
  const [late, waited] = await Promise.all([rejection(running.result), rejection(queued.result)]);
  assert.ok(late instanceof TimeoutError);
  assert.equal(late.timeout, 15);
  assert.equal(waited.name, "TimeoutError");
  assert.deepEqual(await worker.run("echo", { z: 3 }).result, { z: 3 });
  assert.equal(worker.restarts, 0);
});

test("terminate rejects the running and queued jobs, and later runs", async () => {
  const { worker } = start();
  let started = false;
  const running = worker.run(
    "count",
    { to: 1000 },
    {
      onProgress: () => {
        started = true;
      },
    },
  );
  const queued = worker.run("echo", {});
  await until(() => started);
  worker.terminate();
  for (const job of [running, queued, worker.run("echo", {})]) {
    assert.equal((await rejection(job.result)).name, "WorkerCrashedError");
  }
});
