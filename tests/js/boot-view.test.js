// When the page's pool starts (web/meter/boot-view.js afterFirstPaint): after the first frame, in idle
// time if there is some soon, and never much later than that frame; a tab that paints nothing still starts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { IDLE_WAIT_MS, afterFirstPaint } from "../../web/meter/boot-view.js";

/**
 * A page's scheduling, driven by hand: frames, idle periods and timers run only when the test
 * says so, and each is recorded.
 */
function fakePage() {
  /** @type {(() => void)[]} */
  const frames = [];
  /** @type {{run: () => void, timeout: number}[]} */
  const idle = [];
  /** @type {{run: () => void, ms: number}[]} */
  const timers = [];
  const scope = /** @type {any} */ (globalThis);
  scope.requestAnimationFrame = (/** @type {() => void} */ run) => frames.push(run);
  scope.requestIdleCallback = (/** @type {() => void} */ run, /** @type {{timeout: number}} */ options) =>
    idle.push({ run, timeout: options.timeout });
  const realSetTimeout = globalThis.setTimeout;
  scope.setTimeout = (/** @type {() => void} */ run, /** @type {number} */ ms) => timers.push({ run, ms });
  const restore = () => {
    delete scope.requestAnimationFrame;
    delete scope.requestIdleCallback;
    scope.setTimeout = realSetTimeout;
  };
  return { frames, idle, timers, restore };
}

test("the pool starts after the first frame, waiting for idle time at most IDLE_WAIT_MS", () => {
  const page = fakePage();
  try {
    let starts = 0;
    afterFirstPaint(() => starts++);
    assert.equal(starts, 0, "nothing starts before the first frame");
    assert.equal(page.idle.length, 0, "idle time is asked for only once the frame is drawn");
    page.frames.shift()?.();
    assert.equal(starts, 0);
    assert.deepEqual(
      page.idle.map((request) => request.timeout),
      [IDLE_WAIT_MS],
    );
    assert.ok(IDLE_WAIT_MS <= 100, "a busy page must not hold the workers back for long");
    page.idle[0].run();
    assert.equal(starts, 1);
    for (const timer of page.timers) timer.run(); // the hidden-tab fallback fires later: no second start
    assert.equal(starts, 1);
  } finally {
    page.restore();
  }
});

test("a tab that paints no frame still starts its pool, once, after the time-out", () => {
  const page = fakePage();
  try {
    let starts = 0;
    afterFirstPaint(() => starts++, 700);
    assert.deepEqual(
      page.timers.map((timer) => timer.ms),
      [700],
    );
    page.timers[0].run();
    assert.equal(starts, 1);
    page.frames.shift()?.();
    page.idle[0]?.run();
    assert.equal(starts, 1);
  } finally {
    page.restore();
  }
});
