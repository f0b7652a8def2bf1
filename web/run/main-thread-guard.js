// The warning before a main-thread run that could freeze the page for long (or for ever): an
// in-page dialog (not window.confirm, which itself blocks the page and cannot say much) with an
// estimate of the freeze, measured rather than guessed: a run of the same task, or a small sample
// of it timed in a worker, scaled by the parameters the task declares its work grows with.

import { isMainThreadPythonLoaded } from "./main-thread-python.js";

/** @typedef {import("./task-form.js").TaskSchema} TaskSchema */
/** @typedef {"main" | "worker" | "cancel"} Choice */

// Freezes shorter than this are the lesson itself (the default tasks take a second or three): no
// warning. Longer ones get one.
export const WARN_ABOVE_MS = 5_000;
// Samples start this many times smaller than the run and grow tenfold until one takes long enough
// to time well (SAMPLE_MS), so even on a slow machine the wait before the dialog stays short.
const FIRST_SAMPLE_FRACTION = 10_000;
const SAMPLE_MS = 100;
const MAX_SAMPLE_FRACTION = 20;

/**
 * The size of a run's work: the product of the parameters the task says its time grows with, or
 * null when the task declares none (your own code: nothing predicts it).
 * @param {TaskSchema} task
 * @param {Record<string, unknown>} params
 * @returns {number | null}
 */
export function workSize(task, params) {
  if (!task.work?.length) return null;
  return task.work.reduce(
    (product, name) => product * Math.max(1, Number(params[name] ?? task.defaults[name] ?? 1)),
    1,
  );
}

/**
 * Parameters for a smaller run: the first work parameter set to `value` (not below its minimum).
 * @param {TaskSchema} task
 * @param {Record<string, unknown>} params
 * @param {number} value
 */
export function scaledParams(task, params, value) {
  const [first] = /** @type {string[]} */ (task.work);
  const schema = task.params.find((param) => param.name === first);
  return { ...params, [first]: Math.max(schema?.minimum ?? 1, 1, Math.floor(value)) };
}

/**
 * @param {number} ms
 */
function duration(ms) {
  return ms < 1000
    ? `${ms.toFixed(0)} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${(ms / 60_000).toFixed(0)} minutes`;
}

export class MainThreadGuard {
  /**
   * @param {{dialog: HTMLDialogElement, text: HTMLElement}} elements  the dialog's buttons carry
   *   `value="main" | "worker" | "cancel"` inside a `<form method="dialog">`
   * @param {(task: string, params: Record<string, unknown>) => Promise<unknown>} runInWorker
   *   used to time a small sample
   */
  constructor({ dialog, text }, runInWorker) {
    this.dialog = dialog;
    this.text = text;
    this.runInWorker = runInWorker;
    /** @type {Map<string, number>} milliseconds per unit of work, per task, from finished runs */
    this.rates = new Map();
    /** @type {number | null} how long loading Python took in the worker (the main thread's first run pays it too) */
    this.loadMs = null;
  }

  /**
   * Learn from a finished run (in either place: the same Python runs at the same speed).
   * @param {TaskSchema} task @param {Record<string, unknown>} params @param {number} durationMs
   */
  record(task, params, durationMs) {
    const size = workSize(task, params);
    if (size !== null && durationMs > 20) this.rates.set(task.name, durationMs / size);
  }

  /**
   * How long a main-thread run would freeze the page, and how that was found; null when unknowable.
   * @param {TaskSchema} task @param {Record<string, unknown>} params
   * @returns {Promise<{ms: number, how: string} | null>}
   */
  async estimate(task, params) {
    const size = workSize(task, params);
    if (size === null) return null;
    let rate = this.rates.get(task.name);
    let how = "scaled from your last run of this task";
    if (rate === undefined) {
      const full = Number(params[/** @type {string[]} */ (task.work)[0]]);
      let value = full / FIRST_SAMPLE_FRACTION;
      for (;;) {
        const sample = scaledParams(task, params, value);
        const started = performance.now();
        await this.runInWorker(task.name, sample);
        const sampleMs = performance.now() - started;
        rate = sampleMs / /** @type {number} */ (workSize(task, sample));
        how = `a sample ${Math.round(size / /** @type {number} */ (workSize(task, sample))).toLocaleString("en")} times smaller took ${duration(sampleMs)} in a worker`;
        if (sampleMs >= SAMPLE_MS || value * 10 > full / MAX_SAMPLE_FRACTION) break;
        value *= 10;
      }
    }
    return { ms: rate * size, how };
  }

  /**
   * Ask before a main-thread run when it could freeze the page for long; resolves with where to run.
   * @param {TaskSchema} task @param {Record<string, unknown>} params
   * @returns {Promise<Choice>}
   */
  async confirm(task, params) {
    const estimate = await this.estimate(task, params);
    const load = !isMainThreadPythonLoaded() && this.loadMs !== null ? this.loadMs : 0;
    // The load is paid once and said after the run; only the task's own freeze decides.
    if (estimate !== null && estimate.ms <= WARN_ABOVE_MS) return "main";
    const loadNote = load
      ? ` Loading Python on the main thread first adds about ${duration(load)} (it took that long in the worker).`
      : "";
    this.text.textContent =
      estimate === null
        ? "Your own code cannot be timed in advance: it may run for ever (a `while True:` loop, say). " +
          "On the main thread nothing can stop it — not Cancel, not this page; only closing the tab. " +
          `In a worker, Cancel stops it at once.${loadNote}`
        : `This would freeze the page for about ${duration(estimate.ms)} (${estimate.how}). ` +
          `No click, scroll or animation is handled meanwhile, and Cancel cannot stop it.${loadNote}`;
    this.dialog.returnValue = "cancel";
    this.dialog.showModal();
    const choice = await new Promise((resolve) =>
      this.dialog.addEventListener("close", () => resolve(this.dialog.returnValue), { once: true }),
    );
    return choice === "main" || choice === "worker" ? choice : "cancel";
  }
}
