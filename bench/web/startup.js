// The start-up benchmark page: like the app, it loads the worker client at once and starts a
// WorkerPool once the page has painted (web/meter/boot-view.js's afterFirstPaint), then answers
// `offloadStartup.firstResult(...)`, which bench/startup.py calls as soon as the page has loaded.
// Times are milliseconds since navigation start (performance.now()'s origin), so "startup
// included" is what a visitor waits.

/** @typedef {import("../../worker/protocol.js").ReadyReply} ReadyReply */
/** @typedef {import("../../worker/client.js").WorkerPool} WorkerPool */

const POOL_SIZE = Number(new URL(location.href).searchParams.get("size") ?? "2");

/**
 * The pool as soon as the page creates it (after first paint), before any worker is ready: a run
 * asked for now waits in the pool's queue and starts on the first worker that is ready, as the
 * app's Run button does. `ready` settles when every worker has booted.
 * @type {Promise<{pool: WorkerPool, ready: Promise<{replies: ReadyReply[], readyAt: number}>, startedAt: number}>}
 */
const created = new Promise((resolve, reject) => {
  // Both load at once, before the first paint, as the app's static imports do; only creating
  // the pool waits for the paint.
  const bootView = import("../../web/meter/boot-view.js");
  const client = import("../../worker/client.js");
  client.catch(() => {}); // awaited after the paint; a rejection there is the one that counts
  bootView.then(
    ({ afterFirstPaint }) =>
      afterFirstPaint(async () => {
        try {
          const { WorkerPool } = await client;
          const startedAt = performance.now();
          const pool = new WorkerPool({ size: POOL_SIZE });
          const ready = pool.ready.then((replies) => ({ replies, readyAt: performance.now() }));
          resolve({ pool, ready, startedAt });
        } catch (error) {
          reject(error);
        }
      }),
    reject,
  );
});

const startup = {
  /**
   * Run `task` on the pool (split across it when it declares a range), as soon as asked: then the
   * same run again on the ready pool, for the "startup excluded" figure.
   * @param {string} task
   * @param {Record<string, unknown>} params
   */
  async firstResult(task, params) {
    const askedAt = performance.now();
    const { pool, ready, startedAt } = await created;
    /** @type {number | null} when the first worker was ready: the first run's parts began then */
    let firstReadyAt = null;
    pool.firstReady.then(() => {
      firstReadyAt = performance.now();
    });
    /** @param {boolean} split */
    const once = (split) => (split ? pool.runSplit(task, params).result : pool.run(task, params).result);
    const split = task === "mandelbrot";
    await once(split);
    const doneAt = performance.now();
    const { replies, readyAt } = await ready;
    const again = performance.now();
    await once(split);
    const excludedMs = performance.now() - again;
    pool.terminate();
    return {
      askedAt,
      startedAt,
      readyAt,
      doneAt,
      excludedMs,
      firstReadyAt,
      boots: replies.map(({ boot, timings }) => ({ boot, timings })),
    };
  },
};

/** @type {any} */ (globalThis).offloadStartup = startup;
document.body.dataset.ready = "true";
