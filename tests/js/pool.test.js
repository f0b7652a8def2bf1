// WorkerPool over the real worker dispatcher and a fake Python (fake-worker.js), in Node: jobs
// spread over free workers, and runSplit divides a task's declared range into parts that cover it
// exactly once, in order, combined as the schema says. tests/e2e/test_worker_pool.py proves the same with real Pyodide.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { TimeoutError, WorkerPool, defaultPoolSize, splitRange } from "../../worker/client.js";
import { fakeWorkers, rejection, taskInfo, until } from "./fake-worker.js";

/** @typedef {import("./fake-worker.js").FakeOptions} FakeOptions */

/** @type {WorkerPool[]} */
const pools = [];

/**
 * A pool of `size` fake workers.
 * @param {number} size
 * @param {FakeOptions | ((index: number) => FakeOptions)} [fake]
 */
function startPool(size, fake = {}) {
  const fakes = fakeWorkers(fake);
  const pool = new WorkerPool({ size, endpoint: fakes.endpoint, graceMs: 20 });
  pools.push(pool);
  return { pool, made: fakes.made };
}

/** @param {ArrayBuffer} buffer */
const bytes = (buffer) => [...new Uint8Array(buffer)];

/** @param {number} n */
const upTo = (n) => Array.from({ length: n }, (_, i) => i);

afterEach(() => {
  for (const pool of pools.splice(0)) pool.terminate();
});

test("a task's declared range and its bound are read from its schema", () => {
  assert.deepEqual(splitRange(taskInfo("rows")), {
    range: "rows",
    bound: "height",
    boundDefault: 10,
  });
  assert.equal(splitRange(taskInfo("echo")), null);
});

test("jobs go to whichever worker is free, side by side", async () => {
  const { pool, made } = startPool(2);
  const jobs = [1, 2, 3, 4].map((i) => pool.run("count", { to: 3 + i }));
  const values = await Promise.all(jobs.map((job) => job.result));
  assert.deepEqual(values, [{ counted: 4 }, { counted: 5 }, { counted: 6 }, { counted: 7 }]);
  assert.ok(
    made.every((fake) => fake.started.length > 0),
    "both workers ran jobs",
  );
  assert.equal(made[0].started.length + made[1].started.length, 4);
});

test("a bytes range split in parts covers it exactly once, in order, concatenated", async () => {
  const { pool, made } = startPool(3);
  /** @type {import("../../worker/client.js").Part[]} */
  const parts = [];
  /** @type {[number, number][]} */
  const progress = [];
  const job = pool.runSplit(
    "rows",
    { height: 50 },
    {
      parts: 7,
      onPart: (part) => parts.push(part),
      onProgress: (done, total) => progress.push([done, total]),
    },
  );
  const whole = /** @type {ArrayBuffer} */ (await job.result);
  assert.deepEqual(bytes(whole), upTo(50));
  const covered = parts
    .sort((a, b) => a.start - b.start)
    .flatMap((part) => {
      assert.deepEqual(bytes(/** @type {ArrayBuffer} */ (part.value)), upTo(part.stop).slice(part.start));
      return upTo(part.stop).slice(part.start);
    });
  assert.deepEqual(covered, upTo(50), "every row in exactly one part");
  assert.equal(parts.length, 7);
  assert.ok(
    made.every((fake) => fake.started.length > 0),
    "every worker ran a part",
  );
  assert.deepEqual(progress.at(-1), [50, 50]);
  assert.ok(
    progress.every(([done], i) => i === 0 || done >= progress[i - 1][0]),
    "progress only grows",
  );
});

test("an object task's split resolves with the parts' values in range order", async () => {
  const { pool } = startPool(2);
  const values = /** @type {{sum: number, start: number, stop: number}[]} */ (
    await pool.runSplit("sum", { n: 10 }, { parts: 3 }).result
  );
  assert.deepEqual(
    values.map(({ start, stop }) => [start, stop]),
    [
      [0, 3],
      [3, 6],
      [6, 10],
    ],
  );
  assert.equal(
    values.reduce((total, part) => total + part.sum, 0),
    45,
  );
});

test("a given sub-range is split, the bound's default is used, and parts never outnumber units", async () => {
  const { pool } = startPool(2);
  const sub = /** @type {ArrayBuffer} */ (await pool.runSplit("rows", { height: 20, rows: [5, 9] }).result);
  assert.deepEqual(bytes(sub), [5, 6, 7, 8]);
  const defaulted = /** @type {ArrayBuffer} */ (await pool.runSplit("rows", {}, { parts: 100 }).result);
  assert.deepEqual(bytes(defaulted), upTo(10));
});

test("sizes that cannot be split run as one job, whose own check says what is wrong", async () => {
  const { pool, made } = startPool(2);
  const failed = await rejection(pool.runSplit("rows", { height: "tall" }).result);
  assert.equal(failed.name, "PythonError");
  assert.match(failed.message, /height must be an integer, got tall/);
  assert.equal(made[0].started.length + made[1].started.length, 1);
});

test("splitting a task without a declared range, or with a bad part count, is refused", async () => {
  const { pool } = startPool(1);
  const refused = await rejection(pool.runSplit("echo", {}).result);
  assert.equal(refused.name, "TypeError");
  assert.match(refused.message, /echo declares no range to split over/);
  assert.throws(() => pool.runSplit("rows", {}, { parts: 0 }), RangeError);
});

test("cancelling a split run rejects it and cancels every part, running or queued", async () => {
  const { pool, made } = startPool(2, { tickMs: 5 });
  let running = false;
  const job = pool.runSplit(
    "rows",
    { height: 400 },
    {
      parts: 8,
      onProgress: () => {
        running = true;
      },
    },
  );
  await until(() => running);
  job.cancel();
  assert.equal((await rejection(job.result)).name, "CancelledError");
  const startedParts = made.flatMap((fake) => fake.started).length;
  assert.ok(startedParts < 8, `queued parts were dropped (${startedParts} of 8 started)`);
  assert.deepEqual(await pool.run("echo", { after: true }).result, { after: true });
  assert.equal(pool.queue.length, 0);
});

test("an aborted signal cancels a split run; a timeout rejects it with TimeoutError", async () => {
  const { pool } = startPool(2, { tickMs: 5 });
  const controller = new AbortController();
  const aborted = pool.runSplit(
    "rows",
    { height: 400 },
    {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    },
  );
  assert.equal((await rejection(aborted.result)).name, "CancelledError");
  const late = await rejection(pool.runSplit("rows", { height: 400 }, { timeout: 30 }).result);
  assert.ok(late instanceof TimeoutError);
  assert.equal(late.timeout, 30, "the whole run's timeout, not what was left for a part");
});

test("a failing part rejects the run and the other parts are cancelled", async () => {
  const { pool, made } = startPool(2, { tickMs: 5 });
  const job = pool.runSplit("rows", { height: 200, failAt: 150 }, { parts: 2 });
  const failed = await rejection(job.result);
  assert.equal(failed.name, "PythonError");
  assert.match(failed.message, /ValueError: row 150/);
  // Without an interrupt buffer (Node is not cross-origin isolated) cancel replaces the worker.
  assert.equal(pool.restarts, 1, "the part still running was cancelled");
  assert.ok(made[0].terminated);
  assert.deepEqual(await pool.run("echo", { still: "works" }).result, { still: "works" });
});

test("a worker that crashes is replaced and the pool keeps its size", async () => {
  const { pool } = startPool(2);
  const [crashed, fine] = await Promise.all([
    rejection(pool.run("crash", {}).result),
    pool.run("echo", { n: 1 }).result,
  ]);
  assert.equal(crashed.name, "WorkerCrashedError");
  assert.deepEqual(fine, { n: 1 });
  const after = await Promise.all([1, 2, 3].map((n) => pool.run("echo", { n }).result));
  assert.deepEqual(after, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  assert.equal(pool.restarts, 1);
  assert.equal(pool.size, 2);
});

test("when every worker fails to boot, queued jobs and split runs reject", async () => {
  const { pool } = startPool(2, { bootFails: true });
  const [single, split] = await Promise.all([
    rejection(pool.run("echo", {}).result),
    rejection(pool.runSplit("rows", { height: 10 }).result),
  ]);
  assert.equal(single.name, "WorkerCrashedError");
  assert.equal(split.name, "WorkerCrashedError");
});

test("the default pool has one worker per core the engine reports, at most four", () => {
  assert.equal(defaultPoolSize({ hardwareConcurrency: 2, deviceMemory: 8 }), 2);
  assert.equal(defaultPoolSize({ hardwareConcurrency: 16, deviceMemory: 8 }), 4);
  assert.equal(defaultPoolSize({ hardwareConcurrency: 0, deviceMemory: 8 }), 1);
});

test("the default pool has at most two workers per GiB of device memory", () => {
  assert.equal(defaultPoolSize({ hardwareConcurrency: 8, deviceMemory: 1 }), 2);
  assert.equal(defaultPoolSize({ hardwareConcurrency: 8, deviceMemory: 0.25 }), 1);
});

test("an engine that hides its memory, and may round its cores (WebKit's 4 on 2 cores), gets two", () => {
  assert.equal(defaultPoolSize({ hardwareConcurrency: 4 }), 2);
  assert.equal(defaultPoolSize({ hardwareConcurrency: 1 }), 1);
  assert.equal(defaultPoolSize({}), 1);
});
