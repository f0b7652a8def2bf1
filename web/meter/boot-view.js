// How the page's workers booted: from a memory snapshot or from scratch, each phase's time, and
// any note about a snapshot that was not used (worker/snapshot.js). Also when the pool may start:
// after the first paint, so booting never delays what is drawn.

/** @typedef {import("../../worker/protocol.js").ReadyReply} ReadyReply */

/**
 * How long the pool waits for idle time after the first frame before it starts anyway. Creating
 * it costs the main thread a few milliseconds; the page, animating and logging, may have no idle
 * time for hundreds of milliseconds after its first paint (docs/offline.md), and every one of
 * those delays the workers.
 */
export const IDLE_WAIT_MS = 50;

/**
 * Run `start` once, after the page's first frame: in the first idle time, or `IDLE_WAIT_MS` after
 * the frame, whichever is first, so it never delays what is drawn and never waits long for a busy
 * page; at the latest `timeoutMs` after this call (a hidden tab paints no frames). Safari has no
 * requestIdleCallback: there, the next task after the first frame.
 * @param {() => void} start
 * @param {number} [timeoutMs]
 */
export function afterFirstPaint(start, timeoutMs = 1000) {
  let started = false;
  const once = () => {
    if (started) return;
    started = true;
    start();
  };
  requestAnimationFrame(() => {
    if (typeof requestIdleCallback === "function") requestIdleCallback(once, { timeout: IDLE_WAIT_MS });
    else setTimeout(once, 0);
  });
  setTimeout(once, timeoutMs);
}

/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * One line per worker: "worker 1: from snapshot · runtime 0.31 s · wheel 0.02 s · total 0.36 s",
 * then the note, if any, on a line of its own (data-note, for the eye and the tests).
 * @param {HTMLElement} target  a list (<ul> or <ol>)
 * @param {ReadyReply[]} replies  what each worker of the pool reported
 */
export function showBoots(target, replies) {
  target.replaceChildren(
    ...replies.map((reply, index) => {
      const { boot, timings } = reply;
      const item = document.createElement("li");
      item.dataset.source = boot.source;
      const source = boot.source === "snapshot" ? "from snapshot" : "from scratch";
      const phases = [
        `runtime ${seconds(timings.loadRuntime)}`,
        `wheel ${seconds(timings.loadWheel)}`,
        ...(timings.makeSnapshot === undefined ? [] : [`snapshot made ${seconds(timings.makeSnapshot)}`]),
        `total ${seconds(timings.total)}`,
      ];
      item.textContent = `worker ${index + 1}: ${source} · ${phases.join(" · ")}`;
      if (boot.note) {
        const note = document.createElement("span");
        note.className = "boot-note";
        note.dataset.note = "";
        note.textContent = boot.note;
        item.append(document.createElement("br"), note);
      }
      return item;
    }),
  );
  target.hidden = false;
}
