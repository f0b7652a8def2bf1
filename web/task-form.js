// The task form: a "Task" select and one input per parameter, built from the schemas the worker
// reports (declared once, in Python: py/offload/params.py), so the page never restates a range.
// The browser's constraint validation gives instant messages; Python re-checks every value.

/**
 * @typedef {import("./worker/task-schema.js").ParamSchema} ParamSchema
 * @typedef {import("./worker/task-schema.js").TaskSchema} TaskSchema
 */

// Parameters a person does not set by hand: `rows` is how the pool splits an image into bands.
const HIDDEN_KINDS = new Set(["range"]);
// The task selected first: its default run takes a few seconds, long enough to feel a freeze.
const FIRST_TASK = "montecarlo_pi";

export class TaskForm {
  /**
   * @param {{select: HTMLSelectElement, params: HTMLFieldSetElement, summary: HTMLElement,
   *          error: HTMLElement, onChange?: (task: TaskSchema) => void}} elements
   * @param {TaskSchema[]} tasks
   */
  constructor({ select, params, summary, error, onChange }, tasks) {
    this.select = select;
    this.fieldset = params;
    this.summary = summary;
    this.error = error;
    this.onChange = onChange;
    this.tasks = new Map(tasks.map((task) => [task.name, task]));
    for (const task of tasks) select.append(new Option(label(task.name), task.name));
    select.value = this.tasks.has(FIRST_TASK) ? FIRST_TASK : tasks[0].name;
    select.addEventListener("change", () => this.render());
    this.render();
  }

  /** @returns {TaskSchema} */
  get task() {
    return /** @type {TaskSchema} */ (this.tasks.get(this.select.value));
  }

  render() {
    const task = this.task;
    this.summary.textContent = task.summary;
    this.error.textContent = "";
    const legend = /** @type {HTMLLegendElement} */ (this.fieldset.querySelector("legend"));
    this.fieldset.replaceChildren(legend);
    for (const param of task.params) {
      if (!HIDDEN_KINDS.has(param.kind)) this.fieldset.append(field(task.name, param));
    }
    this.onChange?.(task);
  }

  /**
   * The parameters as typed values, or null after showing what is wrong.
   * @returns {Record<string, unknown> | null}
   */
  values() {
    /** @type {Record<string, unknown>} */
    const values = {};
    for (const param of this.task.params) {
      if (HIDDEN_KINDS.has(param.kind)) continue;
      const input = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (
        this.fieldset.querySelector(`[name="${param.name}"]`)
      );
      if (!input.checkValidity()) {
        this.error.textContent = `${param.name}: ${input.validationMessage}`;
        input.focus();
        return null;
      }
      if (input.value === "" && !param.required) continue;
      values[param.name] = param.kind === "string" ? input.value : Number(input.value);
    }
    this.error.textContent = "";
    return values;
  }
}

/** @param {string} name */
function label(name) {
  return (
    {
      primes: "Count primes",
      mandelbrot: "Mandelbrot image",
      montecarlo_pi: "Monte Carlo π",
      run_code: "Your own Python",
    }[name] ?? name
  );
}

/**
 * One labelled input for a parameter.
 * @param {string} task
 * @param {ParamSchema} param
 */
function field(task, param) {
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
  if (param.default !== null && param.default !== undefined) input.value = String(param.default);
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
