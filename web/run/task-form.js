// The task form: a "Task" select and one input per parameter, built from the schemas the worker
// reports (declared once, in Python: py/offload/params.py), so the page never restates a range.
// The browser's constraint validation gives instant messages; Python re-checks every value.
// Labels and help text come with the task from Python too; a code parameter gets an editor.

import { createCodeEditor } from "./editor.js";
import { checkFields, clearWhenFixed } from "./field-check.js";

/**
 * @typedef {import("../../worker/task-schema.js").ParamSchema} ParamSchema
 * @typedef {import("../../worker/task-schema.js").TaskSchema} TaskSchema
 */

// Parameters a person does not set by hand: `rows` is how the pool splits an image into bands.
const HIDDEN_KINDS = new Set(["range"]);
// The task selected first: its default run takes a few seconds, long enough to feel a freeze.
const FIRST_TASK = "montecarlo_pi";

export class TaskForm {
  /**
   * @param {{select: HTMLSelectElement, params: HTMLFieldSetElement, summary: HTMLElement,
   *          error: HTMLElement, onChange?: (task: TaskSchema) => void,
   *          extraFields?: {input: HTMLInputElement, label: string, applies: (task: TaskSchema) => boolean}[]}} elements
   *   `extraFields`: inputs outside the fieldset (the pool size) checked with the task's own
   * @param {TaskSchema[]} tasks
   */
  constructor({ select, params, summary, error, onChange, extraFields = [] }, tasks) {
    this.select = select;
    this.fieldset = params;
    this.summary = summary;
    this.error = error;
    this.onChange = onChange;
    this.extraFields = extraFields;
    for (const { input } of extraFields) clearWhenFixed(input);
    /** Ctrl/Cmd+Enter in a code editor; main.js points it at "Run in worker". */
    this.onRunShortcut = () => {};
    /** @type {Map<string, Record<string, string>>} what was typed per task, kept across switches */
    this.typed = new Map();
    /** @type {import("@codemirror/view").EditorView | null} */
    this.editor = null;
    /** @type {Promise<unknown>} resolves once the current task's fields (editor included) exist */
    this.ready = Promise.resolve();
    // A task that reads a file (a "bytes" param) is run from the data panel, not from this form.
    const formTasks = tasks.filter((task) => !task.params.some((param) => param.kind === "bytes"));
    this.tasks = new Map(formTasks.map((task) => [task.name, task]));
    for (const task of formTasks) select.append(new Option(task.label || task.name, task.name));
    select.value = this.tasks.has(FIRST_TASK) ? FIRST_TASK : formTasks[0].name;
    this.shown = select.value;
    select.addEventListener("change", () => {
      this.remember(this.shown);
      this.shown = select.value;
      this.render();
    });
    this.render();
  }

  /** @param {string} task keep what the person typed for `task` before its fields are replaced */
  remember(task) {
    /** @type {Record<string, string>} */
    const values = {};
    for (const input of this.fieldset.querySelectorAll("input, textarea")) {
      const field = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (input);
      values[field.name] = field.value;
    }
    this.typed.set(task, values);
  }

  /** @returns {TaskSchema} */
  get task() {
    return /** @type {TaskSchema} */ (this.tasks.get(this.select.value));
  }

  render() {
    const task = this.task;
    this.summary.textContent = task.help || task.summary;
    this.error.textContent = "";
    const legend = /** @type {HTMLLegendElement} */ (this.fieldset.querySelector("legend"));
    this.editor?.destroy();
    this.editor = null;
    this.fieldset.replaceChildren(legend);
    const typed = this.typed.get(task.name) ?? {};
    /** @type {Promise<unknown>[]} */
    const pending = [];
    for (const param of task.params) {
      if (HIDDEN_KINDS.has(param.kind)) continue;
      const wrapper = field(task.name, param, typed[param.name]);
      this.fieldset.append(wrapper);
      const input = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (wrapper.querySelector("[name]"));
      clearWhenFixed(input);
      if (param.language === "python" && input instanceof HTMLTextAreaElement) {
        pending.push(
          createCodeEditor(input, { task: task.name, onRun: () => this.onRunShortcut() }).then((view) => {
            // A quick switch away and back can finish an older load after a newer one.
            if (this.select.value === task.name && input.isConnected) this.editor = view;
            else view.destroy();
          }),
        );
      }
    }
    this.ready = Promise.all(pending);
    this.onChange?.(task);
  }

  /**
   * The parameters as they stand, unchecked (for a preview): numbers as numbers, blanks left out.
   * @returns {Record<string, unknown>}
   */
  currentValues() {
    /** @type {Record<string, unknown>} */
    const values = {};
    for (const param of this.task.params) {
      const input = /** @type {HTMLInputElement | HTMLTextAreaElement | null} */ (
        this.fieldset.querySelector(`[name="${param.name}"]`)
      );
      if (!input || input.value === "") continue;
      values[param.name] = param.kind === "string" ? input.value : Number(input.value);
    }
    return values;
  }

  /**
   * The parameters as typed values, or null after showing what is wrong.
   * @returns {Record<string, unknown> | null}
   */
  values() {
    const task = this.task;
    const params = task.params.filter((param) => !HIDDEN_KINDS.has(param.kind));
    const inputs = params.map(
      (param) =>
        /** @type {HTMLInputElement | HTMLTextAreaElement} */ (this.fieldset.querySelector(`[name="${param.name}"]`)),
    );
    const fields = [
      ...params.map((param, index) => ({
        input: inputs[index],
        label: param.name,
        focus: param.language && this.editor ? () => this.editor?.focus() : undefined,
      })),
      ...this.extraFields.filter((extra) => extra.applies(task)),
    ];
    if (!checkFields(fields, this.error)) return null;
    /** @type {Record<string, unknown>} */
    const values = {};
    params.forEach((param, index) => {
      const input = inputs[index];
      if (input.value === "" && !param.required) return;
      values[param.name] = param.kind === "string" ? input.value : Number(input.value);
    });
    return values;
  }
}

/**
 * One labelled input for a parameter.
 * @param {string} task
 * @param {ParamSchema} param
 * @param {string} [typed]  what the person typed earlier, instead of the default
 */
function field(task, param, typed) {
  const wrapper = document.createElement("div");
  wrapper.className = `field param-${param.kind}`;
  const id = `param-${task}-${param.name}`;
  const labelElement = document.createElement("label");
  labelElement.htmlFor = id;
  labelElement.textContent = param.name;
  /** @type {HTMLInputElement | HTMLTextAreaElement} */
  let input;
  if (param.kind === "string") {
    input = document.createElement("textarea");
    input.rows = 6;
    input.spellcheck = false;
    if (param.max_length) input.maxLength = param.max_length;
  } else {
    input = document.createElement("input");
    input.type = "number";
    input.inputMode = param.kind === "integer" ? "numeric" : "decimal";
    input.step = param.kind === "integer" ? "1" : "any";
    if (param.minimum !== undefined) input.min = String(param.minimum);
    if (param.maximum !== undefined) input.max = String(param.maximum);
  }
  input.id = id;
  input.name = param.name;
  input.required = param.required;
  if (typed !== undefined) input.value = typed;
  else if (param.default !== null && param.default !== undefined) input.value = String(param.default);
  const hint = document.createElement("p");
  hint.className = "hint";
  hint.id = `${id}-hint`;
  const range =
    param.minimum !== undefined
      ? ` (${param.minimum.toLocaleString("en")} to ${param.maximum?.toLocaleString("en")})`
      : "";
  hint.textContent = `${param.description}${range}`;
  input.setAttribute("aria-describedby", hint.id);
  wrapper.append(labelElement, input, hint);
  return wrapper;
}
