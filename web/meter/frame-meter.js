// The frame meter: measures the time between animation frames on the main thread.
// requestAnimationFrame callbacks only run when the main thread is free to render, so the gap
// between two of them is exactly how long the page was frozen. Long tasks (> 50 ms) come from a
// PerformanceObserver, the browser's own account of what blocked the thread.

/** @typedef {"idle" | "main" | "worker"} Where */

/**
 * One frame: when it was painted and how long after the previous one.
 * @typedef {{time: number, gap: number, where: Where}} Frame
 */

/**
 * What the meter saw during one run.
 * @typedef {{where: Where, longestGap: number, frames: number, longTasks: number,
 *            startedAt: number, endedAt: number}} RunStats
 */

const HISTORY_MS = 60_000; // the timeline keeps a minute: enough to see both kinds of run side by side

/** Resolves on the next animation frame (after the browser could paint). */
export function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));
}

export class FrameMeter {
  constructor() {
    /** @type {Frame[]} */
    this.frames = [];
    /** @type {RunStats | null} */
    this.run = null;
    this.longTasks = 0;
    /** @type {Where} what occupies the thread outside a run (e.g. loading Python on it) */
    this.activity = "idle";
    /** @type {number | null} */
    this.lastTime = null;
    this.tick = this.tick.bind(this);
  }

  /** Start measuring; runs for the life of the page. */
  start() {
    requestAnimationFrame(this.tick);
    if (PerformanceObserver.supportedEntryTypes.includes("longtask")) {
      new PerformanceObserver((list) => {
        const count = list.getEntries().length;
        this.longTasks += count;
        if (this.run) this.run.longTasks += count;
      }).observe({ type: "longtask" });
    }
  }

  /** @param {number} time */
  tick(time) {
    if (this.lastTime !== null) {
      const frame = { time, gap: time - this.lastTime, where: this.run?.where ?? this.activity };
      this.frames.push(frame);
      if (this.run) {
        this.run.frames += 1;
        this.run.longestGap = Math.max(this.run.longestGap, frame.gap);
      }
      while (this.frames.length && this.frames[0].time < time - HISTORY_MS) this.frames.shift();
    }
    this.lastTime = time;
    requestAnimationFrame(this.tick);
  }

  /** Frames painted during the last second. */
  fps() {
    const now = performance.now();
    return this.frames.filter((frame) => frame.time > now - 1000).length;
  }

  /**
   * Label the frames from now on with `where` without counting them as a run: loading Python on the
   * main thread freezes the page too, and the chart should say so.
   * @param {Where} where
   */
  mark(where) {
    this.activity = where;
  }

  /**
   * Attribute the frames from now on to a run on `where`.
   * @param {Where} where
   */
  beginRun(where) {
    this.run = { where, longestGap: 0, frames: 0, longTasks: 0, startedAt: performance.now(), endedAt: 0 };
  }

  /**
   * Stop attributing frames to the run and return what was seen. Waits two frames first: after a
   * main-thread run, the frame that reveals the freeze is only painted once the run has returned.
   * @returns {Promise<RunStats>}
   */
  async endRun() {
    await nextFrame();
    await nextFrame();
    const run = /** @type {RunStats} */ (this.run);
    run.endedAt = performance.now();
    this.run = null;
    this.activity = "idle";
    return run;
  }
}
