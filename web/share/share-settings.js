// Whether this page shares a task's results with the server and the other pages, and what exactly
// would leave the page if it does. A shared result (its parameters included: for your own code,
// the code) is stored by the server, broadcast to every connected page and served at /api/results.
// An unshared result is not sent at all: not even without its parameters, since a task name and a
// duration can say more than a person expects. Off by default for tasks that take code.

import { ClientType } from "../socket/protocol.js";

/** @typedef {import("../run/task-form.js").TaskSchema} TaskSchema */

/**
 * Whether a task's results are shared when the person has not chosen: not when it takes code.
 * @param {TaskSchema} task
 */
export function sharedByDefault(task) {
  return !task.params.some((param) => param.language);
}

/** @param {string} task */
const key = (task) => `offload.share.${task}`;

export class ShareSettings {
  /**
   * @param {{checkbox: HTMLInputElement, hint: HTMLElement, preview: HTMLElement}} elements
   */
  constructor({ checkbox, hint, preview }) {
    this.checkbox = checkbox;
    this.hint = hint;
    this.preview = preview;
    /** @type {TaskSchema | null} */
    this.task = null;
    /** @type {Record<string, unknown>} */
    this.params = {};
    checkbox.addEventListener("change", () => {
      if (!this.task) return;
      try {
        globalThis.localStorage.setItem(key(this.task.name), checkbox.checked ? "yes" : "no");
      } catch {
        // No storage: the choice lasts until the page is reloaded.
      }
      this.render();
    });
  }

  /**
   * Whether results of this task are shared: the person's choice, else the default.
   * @param {TaskSchema} task
   */
  allows(task) {
    /** @type {string | null} */
    let stored = null;
    try {
      stored = globalThis.localStorage.getItem(key(task.name));
    } catch {
      stored = null;
    }
    return stored === null ? sharedByDefault(task) : stored === "yes";
  }

  /**
   * Show the setting and the preview for the task and parameters now in the form.
   * @param {TaskSchema} task
   * @param {Record<string, unknown>} params
   */
  show(task, params) {
    if (this.task?.name !== task.name) this.checkbox.checked = this.allows(task);
    this.task = task;
    this.params = params;
    this.render();
  }

  render() {
    if (!this.task) return;
    const sharing = this.checkbox.checked;
    this.hint.textContent = sharing
      ? "After each run of this task, the message below goes to the server: it is stored, shown to every connected page and listed at /api/results."
      : "Nothing about runs of this task leaves this page: not the parameters, not the result.";
    const message = {
      type: ClientType.RESULT,
      task: this.task.name,
      params: this.params,
      result:
        this.task.returns === "bytes"
          ? { bytes: "(the image's size in bytes, not its pixels)" }
          : "(the result of the run)",
      duration_ms: "(how long the run took)",
    };
    this.preview.textContent = sharing ? JSON.stringify(message, null, 2) : "Nothing is sent.";
    this.preview.dataset.sharing = String(sharing);
  }

  /**
   * After a shared run: show exactly what was sent.
   * @param {object} message
   */
  sent(message) {
    this.preview.textContent = `Sent:\n${JSON.stringify(message, null, 2)}`;
  }
}
