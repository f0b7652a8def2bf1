// The click-latency probe: a counter button that reports how long each click waited before the
// page handled it, and before the page could paint the new count. During a main-thread run both
// are as long as the run; with the work in a worker they stay a few milliseconds.

import { nextFrame } from "./frame-meter.js";

/**
 * @typedef {{handledAfter: number, paintedAfter: number}} ClickLatency
 */

/**
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} count
 * @param {HTMLElement} report
 * @param {(latency: ClickLatency) => void} [onClick]
 */
export function attachProbe(button, count, report, onClick) {
  let clicks = 0;
  button.addEventListener("click", async (event) => {
    // event.timeStamp is when the input happened, on the same clock as performance.now().
    const handledAfter = performance.now() - event.timeStamp;
    clicks += 1;
    count.textContent = String(clicks);
    await nextFrame();
    const paintedAfter = performance.now() - event.timeStamp;
    report.textContent = `Last click handled after ${handledAfter.toFixed(0)} ms, painted after ${paintedAfter.toFixed(0)} ms.`;
    report.dataset.paintedAfter = paintedAfter.toFixed(1);
    onClick?.({ handledAfter, paintedAfter });
  });
}
