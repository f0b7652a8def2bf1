// What a person feels while Python runs: the longest gap between animation frames, and how long
// a click waits for the next paint. Both are read on the main thread, where a busy page stalls.

/** Records every requestAnimationFrame timestamp between start() and stop(). */
export class FrameMeter {
  constructor() {
    /** @type {number[]} */
    this.times = [];
    this.running = false;
  }

  start() {
    this.times = [];
    this.running = true;
    /** @param {number} time */
    const tick = (time) => {
      if (!this.running) return;
      this.times.push(time);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  /**
   * Stop, and report the longest gap between two consecutive frames.
   * @returns {{maxGapMs: number, frames: number}}
   */
  stop() {
    this.running = false;
    let maxGapMs = 0;
    for (let i = 1; i < this.times.length; i++) {
      maxGapMs = Math.max(maxGapMs, this.times[i] - this.times[i - 1]);
    }
    return { maxGapMs, frames: this.times.length };
  }
}

/** Resolves after the next frame has been produced (a task queued behind rAF runs after paint). */
export function afterNextPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/**
 * Wait for the next click on `target` and measure from the input's own timestamp (when the
 * browser received it) to the first paint after the handler ran.
 * @param {HTMLElement} target
 * @returns {Promise<number>} milliseconds
 */
export function clickToPaint(target) {
  return new Promise((resolve) => {
    target.addEventListener(
      "click",
      (event) => {
        target.textContent = "clicked"; // a visible change, as a real handler would make
        const inputAt = event.timeStamp;
        afterNextPaint().then(() => resolve(performance.now() - inputAt));
      },
      { once: true },
    );
  });
}
