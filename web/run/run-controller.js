// Runs the selected task on the main thread or in the worker, and keeps the controls, the progress
// bar, the frame meter and the results in step with it. Cancel is enabled only while a run is on.

import { nextFrame } from "../meter/frame-meter.js";
import { isMainThreadPythonLoaded, loadMainThreadPython, runOnMainThread } from "./main-thread-python.js";
import { describeValue } from "./result-view.js";

/** @typedef {import("../meter/frame-meter.js").FrameMeter} FrameMeter */
/** @typedef {import("../meter/frame-meter.js").RunStats} RunStats */
/** @typedef {import("./result-view.js").ResultView} ResultView */
/** @typedef {import("./task-form.js").TaskForm} TaskForm */

/**
 * How the page runs a task in workers; main.js supplies it (a pool, or one worker).
 * @typedef {object} WorkerRunner
 * @property {(task: string, params: Record<string, unknown>, hooks: RunHooks) => {result: Promise<unknown>, cancel: () => void}} run
 */

/**
 * @typedef {object} RunHooks
 * @property {(done: number, total: number) => void} onProgress
 * @property {(text: string) => void} onStdout
 * @property {(startRow: number, rgba: ArrayBuffer) => void} onBand
 * @property {(prompt: string) => Promise<string>} onInput  the code called input(prompt)
 */

/**
 * A finished run, for the runs table and the server. `outcome` tells a cancel the person asked
 * for from a failure (both have `ok` false).
 * @typedef {{task: string, params: Record<string, unknown>, where: "main" | "worker",
 *            ok: boolean, outcome: "ok" | "failed" | "cancelled", value: unknown,
 *            durationMs: number, stats: RunStats}} RunRecord
 */

// A main-thread run shorter than this froze nothing a person could see (a frame is 16 ms).
const TOO_SHORT_TO_FREEZE_MS = 50;

export class RunController {
  /**
   * @param {{form: TaskForm, meter: FrameMeter, view: ResultView, workers: () => WorkerRunner,
   *          buttons: {main: HTMLButtonElement, worker: HTMLButtonElement, cancel: HTMLButtonElement},
   *          progress: HTMLProgressElement, progressLabel: HTMLElement, lastGap: HTMLElement,
   *          onFinished: (record: RunRecord) => void,
   *          confirmMainThread?: (task: import("./task-form.js").TaskSchema, params: Record<string, unknown>) => Promise<"main" | "worker" | "cancel">}} parts
   *   `confirmMainThread`: asked before each main-thread run (see main-thread-guard.js)
   */
  constructor(parts) {
    this.parts = parts;
    /** @type {(() => void) | null} */
    this.cancelCurrent = null;
    /**
     * When Cancel was clicked before the run could take it: during a main-thread run (which
     * cannot be interrupted), or in the frames between enabling Cancel and the worker's job
     * existing, when the job is cancelled as soon as it does.
     * @type {number | null}
     */
    this.cancelClickedAt = null;
    parts.buttons.main.addEventListener("click", () => this.start("main"));
    parts.buttons.worker.addEventListener("click", () => this.start("worker"));
    parts.buttons.cancel.addEventListener("click", (event) => this.cancel(event.timeStamp));
  }

  /** Enable the run buttons once the workers are ready. */
  enable() {
    this.setRunning(false);
  }

  /**
   * Enable or disable every control (while the pool restarts, say).
   * @param {boolean} enabled
   */
  setEnabled(enabled) {
    if (enabled) this.setRunning(false);
    else for (const button of Object.values(this.parts.buttons)) button.disabled = true;
  }

  /** @param {boolean} running */
  setRunning(running) {
    const { main, worker, cancel } = this.parts.buttons;
    main.disabled = running;
    worker.disabled = running;
    cancel.disabled = !running;
  }

  /** @param {number} clickedAt */
  cancel(clickedAt) {
    if (this.cancelCurrent) {
      this.parts.progressLabel.textContent = "Cancelling…";
      this.cancelCurrent();
    } else {
      this.cancelClickedAt = clickedAt;
    }
  }

  /** @param {number} done @param {number} total */
  showProgress(done, total) {
    const fraction = total > 0 ? done / total : 0;
    this.parts.progress.value = fraction;
    this.parts.progressLabel.textContent = `${(fraction * 100).toFixed(0)} %`;
  }

  /** @param {"main" | "worker"} where */
  async start(where) {
    const { form, meter, view, buttons } = this.parts;
    // Ctrl+Enter in the editor can ask while a run is on, or before the workers are ready.
    if (buttons.worker.disabled) return;
    const task = form.task;
    const params = form.values();
    if (!params) return;
    // Where keyboard focus was: a run button about to be disabled would drop it to <body>.
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (where === "main" && this.parts.confirmMainThread) {
      this.setEnabled(false);
      const choice = await this.parts.confirmMainThread(task, params).catch(() => /** @type {const} */ ("cancel"));
      this.setRunning(false);
      focused?.focus();
      if (choice === "cancel") return;
      where = choice;
    }
    this.setRunning(true);
    if (focused && (focused === buttons.main || focused === buttons.worker)) buttons.cancel.focus();
    this.showProgress(0, 1);
    this.cancelClickedAt = null;
    const isImage = task.returns === "bytes";
    view.prepareImage(isImage ? Number(params.width) : null, isImage ? Number(params.height) : null);
    const hooks = {
      onProgress: (/** @type {number} */ done, /** @type {number} */ total) => this.showProgress(done, total),
      onStdout: (/** @type {string} */ text) => view.appendOutput(text),
      onBand: (/** @type {number} */ row, /** @type {ArrayBuffer} */ rgba) => view.drawBand(row, rgba),
      onInput: (/** @type {string} */ prompt) => view.askInput(prompt),
    };
    /** @type {number | null} how long this run first had to load Python on the main thread */
    let loadMs = null;
    if (where === "main" && !isMainThreadPythonLoaded()) {
      view.status("Loading Python on the main thread (the first time only)…");
      await nextFrame();
      meter.mark("main");
      const loadStarted = performance.now();
      await loadMainThreadPython();
      loadMs = performance.now() - loadStarted;
      // Let the frame that ends the load's freeze be painted before the run's own frames count.
      await nextFrame();
    }
    view.status(
      where === "main"
        ? "Running on the main thread — the page is frozen until it ends."
        : "Running in the worker — the page stays responsive.",
    );
    // Let the status paint before a main-thread run takes the thread away.
    await nextFrame();
    meter.beginRun(where);
    const started = performance.now();
    /** @type {unknown} */
    let value = null;
    let ok = false;
    /** @type {"ok" | "failed" | "cancelled"} */
    let outcome = "failed";
    try {
      if (where === "main") {
        value = await runOnMainThread(task.name, params, hooks);
      } else {
        const job = this.parts.workers().run(task.name, params, hooks);
        this.cancelCurrent = job.cancel;
        if (this.cancelClickedAt !== null) this.cancel(this.cancelClickedAt);
        value = await job.result;
      }
      ok = true;
      outcome = "ok";
      const durationMs = performance.now() - started;
      if (value instanceof ArrayBuffer) view.drawBand(0, value);
      view.done(
        `${describeValue(task.name, params, value, where)} — ${seconds(durationMs)} ${where === "main" ? "on the main thread" : "in the worker"}.`,
      );
      this.showProgress(1, 1);
    } catch (error) {
      const failure = /** @type {Error & {type?: string, traceback?: string}} */ (error);
      if (failure.name === "CancelledError") {
        // Asked for, so not a failure: said plainly, not in red.
        outcome = "cancelled";
        view.cancelled(
          `Cancelled after ${seconds(performance.now() - started)}, as you asked; the worker is ready for the next run.`,
        );
        this.parts.progressLabel.textContent = "Cancelled";
      } else {
        view.fail(failure, advice(failure));
        this.parts.progressLabel.textContent = "Failed";
      }
    } finally {
      this.cancelCurrent = null;
    }
    const durationMs = performance.now() - started;
    const stats = await meter.endRun();
    this.parts.lastGap.textContent = `${stats.longestGap.toFixed(0)} ms (${where === "main" ? "main thread" : "worker"})`;
    this.parts.lastGap.dataset.ms = stats.longestGap.toFixed(1);
    if (where === "main" && durationMs < TOO_SHORT_TO_FREEZE_MS) {
      view.note(
        `This run took only ${durationMs.toFixed(0)} ms on the main thread: too short to freeze anything you could see (a frame is 16 ms). Raise the parameters to feel the freeze.`,
      );
    }
    if (loadMs !== null) {
      view.note(
        `Loading Python on the main thread took ${seconds(loadMs)} first (this time only): that froze the page too, but it is not counted as this run's freeze.`,
      );
    }
    if (where === "main" && this.cancelClickedAt !== null) {
      view.status(
        `Cancel was clicked during the run but could only be handled after it ended, ${(performance.now() - this.cancelClickedAt).toFixed(0)} ms later: a busy main thread cannot be interrupted.`,
      );
    }
    this.setRunning(false);
    // Focus goes back where the run was started (the run button, or the code editor).
    if (focused && (document.activeElement === buttons.cancel || document.activeElement === document.body))
      focused.focus();
    this.parts.onFinished({ task: task.name, params, where, ok, outcome, value, durationMs, stats });
  }
}

/** @param {number} ms */
function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * What to do about a failure, in words.
 * @param {Error & {type?: string}} error
 */
function advice(error) {
  switch (error.name) {
    case "WorkerCrashedError":
      return "the worker died and was replaced; run again.";
    case "TimeoutError":
      return "the run took longer than its time limit.";
    default:
      return error.type === "ParameterError" ? "fix the parameter and run again." : "";
  }
}
