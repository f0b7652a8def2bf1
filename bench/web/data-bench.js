// The benchmark's data and console measurements (issue 10): a CSV parsed by csv_summary in a
// worker with the frame meter on, a 64 MiB input moved versus cloned into a worker, and how fast
// Cancel ends a `time.sleep(30)` (and a busy loop, the baseline) without replacing the worker.
// bench.js merges these into `offloadBench`.

import { roundTrips } from "./baseline.js";

/** @typedef {import("../../worker/client.js").PythonWorker} PythonWorker */

// The page's own modules, at their repository paths (the built site mirrors the repository).
const client = await import("../../worker/client.js");
const frames = await import("../../web/meter/frame-meter.js");
// One meter for the life of the page, as on the page; each measurement is one of its runs.
const meter = new frames.FrameMeter();
meter.start();

/** @type {PythonWorker | null} a worker of its own, so earlier runs cannot colour these */
let own = null;

async function dataWorker() {
  own ??= await client.PythonWorker.start();
  return own;
}

/** The CSV's bytes, kept by csvLoad for csvInWorker's runs. */
let csvBytes = new Uint8Array(0);

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const dataBench = {
  /**
   * Keep `text` as the UTF-8 bytes csvInWorker parses, so the text crosses into the page once
   * however many runs there are. Returns their size.
   * @param {string} text
   */
  csvLoad(text) {
    csvBytes = new TextEncoder().encode(text);
    return csvBytes.byteLength;
  },

  /**
   * Parse the loaded bytes with csv_summary `reps` times: the wall time of each (bytes moved in,
   * summary back) and the longest frame gap on this page meanwhile.
   * @param {number} reps
   */
  async csvInWorker(reps) {
    const worker = await dataWorker();
    const times = [];
    let maxGapMs = 0;
    /** @type {any} */
    let summary = null;
    for (let i = 0; i < reps; i++) {
      const data = csvBytes.slice().buffer; // each run moves its buffer away
      await frames.nextFrame();
      meter.beginRun("worker");
      const t0 = performance.now();
      summary = await worker.run("csv_summary", { data }, { onProgress: () => {} }).result;
      times.push(performance.now() - t0);
      maxGapMs = Math.max(maxGapMs, (await meter.endRun()).longestGap);
    }
    return { times, maxGapMs, rows: summary.rows };
  },

  /**
   * The longest frame gap of this page idle for `ms`, for comparison: on a loaded machine frames
   * slip anyway.
   * @param {number} ms
   */
  async idleGap(ms) {
    meter.beginRun("idle");
    await sleep(ms);
    return (await meter.endRun()).longestGap;
  },

  /**
   * A `bytes`-long input into a worker and back, moved the way PythonWorker.run moves params
   * (its `transferables`) versus structured-cloned; interleaved, `reps` of each.
   * @param {number} bytes
   * @param {number} reps
   */
  async inputTransfer(bytes, reps) {
    const { transferables } = await import("../../worker/python-worker.js");
    return roundTrips(bytes, reps, (buffer) => transferables({ data: buffer }));
  },

  /**
   * Cancel `code` `afterMs` into its run, `reps` times: from cancel() to the job's rejection, and
   * how often the worker was replaced meanwhile (an honoured interrupt needs no new worker).
   * @param {string} code
   * @param {number} afterMs
   * @param {number} reps
   */
  async cancelLatency(code, afterMs, reps) {
    const worker = await dataWorker();
    const restarts = worker.restarts;
    const times = [];
    for (let i = 0; i < reps; i++) {
      const job = worker.run("run_code", { code });
      await sleep(afterMs);
      const t0 = performance.now();
      job.cancel();
      const name = await job.result.then(
        () => "finished",
        (/** @type {Error} */ e) => e.name,
      );
      if (name !== "CancelledError") throw new Error(`the job ended with ${name}, not a cancel`);
      times.push(performance.now() - t0);
    }
    // The interpreter is still the same one: a module imported before the cancels is still there.
    const check = await worker.run("run_code", { code: "import sys\n'time' in sys.modules" }).result;
    const replaced = worker.restarts - restarts;
    return {
      times,
      restarts: replaced,
      restartReason: replaced ? worker.lastRestartReason : null,
      sameInterpreter: check.result_repr,
    };
  },
};
