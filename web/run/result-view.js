// Shows what a run produced: a sentence for each task's value, the Mandelbrot image drawn band by
// band as the pool delivers it, streamed output, and Python errors with their traceback.

/**
 * @param {number} value
 * @param {number} [digits]
 */
const format = (value, digits = 0) =>
  value.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * One line describing a task's value.
 * @param {string} task
 * @param {Record<string, unknown>} params
 * @param {any} value
 * @param {"main" | "worker"} [where]
 * @returns {string}
 */
export function describeValue(task, params, value, where = "worker") {
  switch (task) {
    case "primes":
      return `${format(value.count)} primes up to ${format(Number(params.n))}`;
    case "montecarlo_pi":
      return `π ≈ ${format(value.estimate, 6)} (${format(value.inside)} of ${format(value.samples)} points inside the quarter circle)`;
    case "mandelbrot":
      return `${format(Number(params.width))} × ${format(Number(params.height))} pixels (${format(value.byteLength)} bytes, ${where === "main" ? "made on the main thread itself" : "moved from the worker without copying"})`;
    case "run_code":
      return value?.result_repr == null ? "Your code ran." : `Your code returned ${value.result_repr}`;
    default:
      return JSON.stringify(value);
  }
}

export class ResultView {
  /**
   * @param {{result: HTMLElement, image: HTMLCanvasElement, traceback: HTMLElement}} elements
   */
  constructor({ result, image, traceback }) {
    this.result = result;
    this.image = image;
    this.traceback = traceback;
    this.context = /** @type {CanvasRenderingContext2D} */ (image.getContext("2d"));
    /** @type {HTMLPreElement | null} */
    this.output = null;
    /** @type {HTMLFormElement | null} an input() prompt waiting for an answer */
    this.pendingInput = null;
  }

  /** @param {string} text */
  status(text) {
    const line = paragraph(text);
    line.className = "status";
    this.result.replaceChildren(line);
    this.traceback.hidden = true;
    this.output = null;
  }

  /**
   * Get the canvas ready for an image of this size (hidden for every other task).
   * @param {number | null} width @param {number | null} height
   */
  prepareImage(width, height) {
    this.image.hidden = width === null;
    if (width !== null && height !== null) {
      this.image.width = width;
      this.image.height = height;
      this.context.clearRect(0, 0, width, height);
    }
  }

  /**
   * Paint rows [start, start + bytes / (4 * width)) of the image.
   * @param {number} startRow @param {ArrayBuffer} rgba
   */
  drawBand(startRow, rgba) {
    const width = this.image.width;
    const rows = rgba.byteLength / (4 * width);
    if (rows < 1) return;
    this.context.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, rows), 0, startRow);
  }

  /** Text a running task printed, appended as it arrives. @param {string} text */
  appendOutput(text) {
    if (!this.output) {
      this.output = document.createElement("pre");
      this.output.className = "stdout";
      this.output.setAttribute("aria-label", "What the code printed");
      this.output.tabIndex = 0; // it scrolls, so keyboard users must be able to reach it
      this.result.append(this.output);
    }
    this.output.textContent += text;
  }

  /**
   * Show the code's input() prompt with a text field under the output; resolves with what the
   * person typed (Enter or "Send"). The field goes away with the answer or with the run's end.
   * @param {string} prompt
   * @returns {Promise<string>}
   */
  askInput(prompt) {
    this.appendOutput(""); // the prompt belongs under what was printed so far
    const form = document.createElement("form");
    form.className = "input-prompt";
    const label = document.createElement("label");
    label.textContent = prompt || "input()";
    const field = document.createElement("input");
    field.type = "text";
    field.name = "answer";
    field.autocomplete = "off";
    field.setAttribute("aria-label", `Answer to input(): ${prompt}`);
    const send = document.createElement("button");
    send.type = "submit";
    send.textContent = "Send";
    label.append(field);
    form.append(label, send);
    this.result.append(form);
    this.pendingInput?.remove();
    this.pendingInput = form;
    field.focus();
    return new Promise((resolve) => {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        form.remove();
        if (this.pendingInput === form) this.pendingInput = null;
        resolve(field.value);
      });
    });
  }

  /** Remove a prompt nobody answered (the run ended or was cancelled). */
  dropInput() {
    this.pendingInput?.remove();
    this.pendingInput = null;
  }

  /** @param {string} text */
  done(text) {
    this.dropInput();
    const line = paragraph(text);
    line.className = "ok";
    this.result.querySelector("p.status")?.remove();
    this.result.prepend(line);
  }

  /** A run stopped because the person asked: neither a result nor a failure. @param {string} text */
  cancelled(text) {
    const line = paragraph(text);
    line.className = "cancelled";
    this.result.querySelector("p.status")?.remove();
    this.result.prepend(line);
  }

  /** An aside under the result (e.g. why a run did not freeze the page). @param {string} text */
  note(text) {
    const line = paragraph(text);
    line.className = "note";
    this.result.append(line);
  }

  /**
   * @param {Error & {type?: string, traceback?: string}} error
   * @param {string} [advice]
   */
  fail(error, advice) {
    // A PythonError's message already reads "Type: message"; other errors get their name in front.
    this.dropInput();
    const headline = error.type ? error.message : `${error.name}: ${error.message}`;
    const line = paragraph(`${headline}${advice ? ` — ${advice}` : ""}`);
    line.className = "bad";
    this.result.querySelector("p.status")?.remove();
    this.result.prepend(line);
    this.traceback.hidden = !error.traceback;
    this.traceback.textContent = error.traceback ?? "";
  }
}

/** @param {string} text */
function paragraph(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}
