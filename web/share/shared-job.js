// The shared-job panel: start a Monte Carlo π job that the server splits into chunks, volunteer
// this page's worker pool for it, and watch the estimate every page contributes to.

import { joinDistributedJob, startDistributedJob } from "./distributed.js";

/** @typedef {import("../socket/client.js").SocketClient} SocketClient */
/** @typedef {import("./distributed.js").JobProgress} JobProgress */
/** @typedef {import("./distributed.js").RunTask} RunTask */

// 40 chunks of a million points: a few seconds of work for two or three pages.
export const SHARED_JOB = Object.freeze({ samples: 40_000_000, chunkSamples: 1_000_000 });

export class SharedJobPanel {
  /**
   * @param {{start: HTMLButtonElement, join: HTMLButtonElement, estimate: HTMLElement,
   *          progress: HTMLElement, mine: HTMLElement}} elements
   * @param {SocketClient} socket
   * @param {() => {runTask: RunTask, slots: number}} workers  the page's pool, when it is ready
   */
  constructor(elements, socket, workers) {
    this.elements = elements;
    this.socket = socket;
    /** @type {import("./distributed.js").Membership | null} */
    this.membership = null;
    this.mine = 0;
    elements.start.addEventListener("click", () => this.start(workers));
    elements.join.addEventListener("click", () => this.toggle(workers));
  }

  /**
   * Start a job; this page joins it too (a job nobody computes would wait for ever), and other
   * pages join with their own "Join with this page".
   * @param {() => {runTask: RunTask, slots: number}} workers
   */
  async start(workers) {
    this.elements.start.disabled = true;
    this.elements.progress.textContent = "starting…";
    if (!this.membership && !this.elements.join.disabled) this.toggle(workers);
    try {
      await startDistributedJob(this.socket, { ...SHARED_JOB, seed: Math.floor(Math.random() * 2 ** 31) });
    } catch (error) {
      this.elements.progress.textContent = `could not start: ${/** @type {Error} */ (error).message}`;
    } finally {
      this.elements.start.disabled = false;
    }
  }

  /** @param {() => {runTask: RunTask, slots: number}} workers */
  toggle(workers) {
    if (this.membership) {
      this.membership.leave();
      this.membership = null;
    } else {
      const { runTask, slots } = workers();
      this.membership = joinDistributedJob(this.socket, runTask, {
        slots,
        onChunk: () => {
          this.mine += 1;
          this.elements.mine.textContent = String(this.mine);
        },
      });
    }
    this.elements.join.setAttribute("aria-pressed", String(this.membership !== null));
  }

  /**
   * Every page sees every job's progress, joined or not.
   * @param {JobProgress} progress
   */
  show(progress) {
    const { estimate, progress: bar } = this.elements;
    estimate.textContent = progress.estimate === null ? "—" : `π ≈ ${progress.estimate.toFixed(6)}`;
    estimate.dataset.inside = String(progress.inside);
    estimate.dataset.samples = String(progress.samples_done);
    const pages = progress.workers === 1 ? "1 page" : `${progress.workers} pages`;
    bar.textContent = progress.done
      ? `done: ${progress.chunks} chunks, ${progress.samples.toLocaleString("en")} points`
      : `${progress.chunks_done} of ${progress.chunks} chunks, ${pages} working`;
    bar.dataset.done = String(progress.done);
    bar.dataset.jobId = progress.job_id;
  }
}
