// Your own Python through the client, in Node over the real dispatcher and a fake Python
// (fake-worker.js): `modules`/`packages` reach the worker's `init` as absolute URLs, `call` runs a
// function by name with progress, cancel and bytes, the pool does the same, and a module that does
// not load fails the start naming its URL. tests/e2e/test_own_python.py proves it in Pyodide.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import {
  CancelledError,
  PythonError,
  PythonWorker,
  RequestError,
  WorkerCrashedError,
  WorkerPool,
} from "../../worker/client.js";
import { fakeWorkers, rejection, until } from "./fake-worker.js";

const PAGE = "http://page.test/app/index.html";

/** @type {{terminate: () => void}[]} */
const started = [];

afterEach(() => {
  for (const worker of started.splice(0)) worker.terminate();
});

/**
 * Make `make()` as on a page at PAGE (relative URLs resolve against it), isolated or not.
 * @template T
 * @param {() => T} make
 * @param {boolean} [isolated]
 * @returns {T}
 */
function onPage(make, isolated = false) {
  const global = /** @type {{crossOriginIsolated?: boolean, location?: {href: string}}} */ (globalThis);
  global.crossOriginIsolated = isolated;
  global.location = { href: PAGE };
  try {
    return make();
  } finally {
    delete global.crossOriginIsolated;
    delete global.location;
  }
}

/**
 * A PythonWorker over fakes, with the developer's own modules.
 * @param {{modules?: string[], packages?: string[], isolated?: boolean}} [options]
 */
function start({ modules = ["./mymod.py"], packages = [], isolated = false } = {}) {
  const fakes = fakeWorkers();
  const worker = onPage(() => new PythonWorker({ endpoint: fakes.endpoint, graceMs: 30, modules, packages }), isolated);
  started.push(worker);
  return { worker, made: fakes.made };
}

test("modules and packages reach the worker's init as URLs resolved against the page", async () => {
  const { worker, made } = start({
    modules: ["./mymod.py", "/lib/other.py"],
    packages: ["w/my_pkg-1.0-py3-none-any.whl"],
  });
  await worker.ready;
  const init = /** @type {import("../../worker/protocol.js").InitRequest} */ (made[0].received[0]);
  assert.deepEqual(init.modules, ["http://page.test/app/mymod.py", "http://page.test/lib/other.py"]);
  assert.deepEqual(init.packages, ["http://page.test/app/w/my_pkg-1.0-py3-none-any.whl"]);
});

test("call runs a function by name with args and kwargs, progress and output", async () => {
  const { worker } = start();
  /** @type {[number, number][]} */
  const progress = [];
  /** @type {string[]} */
  const printed = [];
  const job = worker.call("mymod.count", [3], {
    onProgress: (done, total) => progress.push([done, total]),
    onStdout: (text) => printed.push(text),
  });
  assert.deepEqual(await job.result, { counted: 3 });
  assert.deepEqual(progress.at(-1), [3, 3]);
  assert.deepEqual(printed, ["counted to 3\n"]);
  assert.equal(await worker.call("mymod.add", [1, 2], { kwargs: { scale: 10 } }).result, 30);
});

test("bytes go to a call transferred and come back as an ArrayBuffer", async () => {
  const { worker, made } = start();
  const data = new Uint8Array([1, 2, 3]).buffer;
  const value = await worker.call("mymod.reverse", [data]).result;
  assert.equal(data.byteLength, 0, "the caller's buffer moved to the worker");
  assert.ok(made[0].transfers.some((transfer) => transfer.length === 1));
  assert.deepEqual([...new Uint8Array(value)], [3, 2, 1]);
});

test("a missing module or function rejects with a PythonError of its own type", async () => {
  const { worker } = start();
  const missingModule = await rejection(worker.call("other.fn").result);
  assert.ok(missingModule instanceof PythonError);
  assert.equal(missingModule.type, "MissingModuleError");
  const missingFunction = /** @type {PythonError} */ (await rejection(worker.call("mymod.nope").result));
  assert.equal(missingFunction.type, "MissingFunctionError");
  assert.equal(await worker.call("mymod.add", [1, 1]).result, 2, "the worker runs on");
});

test("cancel stops a running call and the same worker calls on", async () => {
  const { worker, made } = start({ isolated: true });
  let running = false;
  const job = worker.call("mymod.count", [1000], {
    onProgress: () => {
      running = true;
    },
  });
  await until(() => running);
  job.cancel();
  assert.ok((await rejection(job.result)) instanceof CancelledError);
  assert.equal(await worker.call("mymod.add", [2, 2]).result, 4);
  assert.equal(made.length, 1);
});

test("a module that cannot be fetched fails the start with an error naming its URL", async () => {
  const { worker } = start({ modules: ["./missing.py"] });
  const error = await rejection(worker.ready);
  assert.ok(error instanceof WorkerCrashedError);
  assert.equal(
    error.message,
    "The worker could not start: UserCodeError: could not fetch module http://page.test/app/missing.py: HTTP 404 Not Found",
  );
  assert.ok((await rejection(worker.call("mymod.add", [1, 1]).result)) instanceof WorkerCrashedError);
});

test("a pool started with modules gives them to every worker and calls on any", async () => {
  const fakes = fakeWorkers();
  const pool = onPage(() => new WorkerPool({ size: 2, endpoint: fakes.endpoint, modules: ["./mymod.py"] }));
  started.push(pool);
  await pool.ready;
  for (const fake of fakes.made) {
    const init = /** @type {import("../../worker/protocol.js").InitRequest} */ (fake.received[0]);
    assert.deepEqual(init.modules, ["http://page.test/app/mymod.py"]);
  }
  const sums = await Promise.all([1, 2, 3].map((n) => pool.call("mymod.add", [n, n]).result));
  assert.deepEqual(sums, [2, 4, 6]);
});

test("an argument that cannot be cloned rejects that call with RequestError naming it", async () => {
  const { worker } = start();
  const error = await rejection(worker.call("mymod.add", [1, () => 2]).result);
  assert.ok(error instanceof RequestError);
  assert.match(error.message, /^mymod\.add: argument 1 cannot be sent to a worker \(a function cannot/);
  const keyword = await rejection(worker.call("mymod.add", [1, 2], { kwargs: { scale: Symbol("x") } }).result);
  assert.match(keyword.message, /^mymod\.add: keyword argument scale cannot be sent/);
  assert.equal(await worker.call("mymod.add", [1, 2]).result, 3, "the next call goes to the same worker");
});
