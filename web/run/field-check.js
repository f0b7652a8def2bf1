// Field validation shown where the person looks: the message under the field itself (linked by
// aria-describedby, the field marked aria-invalid) and, for screen readers, once in the form's alert.

/**
 * The problem with an input's current value, or "" when it is fine. The browser's constraint
 * validation first; then what it does not check for values set by script (a too-long textarea
 * filled by the code editor is not `tooLong` to the browser).
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 * @returns {string}
 */
export function problemWith(input) {
  if (input.type === "number" && input.value.trim() === "" && input.validity.badInput) {
    return "Enter a number.";
  }
  if (!input.checkValidity()) return input.validationMessage;
  if (input.maxLength > 0 && input.value.length > input.maxLength) {
    return `At most ${input.maxLength.toLocaleString("en")} characters (now ${input.value.length.toLocaleString("en")}).`;
  }
  return "";
}

/**
 * Show (or, with "", clear) a message at the field.
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 * @param {string} message
 */
export function markField(input, message) {
  const id = `${input.id}-error`;
  let note = document.getElementById(id);
  if (!message) {
    input.removeAttribute("aria-invalid");
    note?.remove();
    input.setAttribute(
      "aria-describedby",
      describedBy(input)
        .filter((other) => other !== id)
        .join(" "),
    );
    return;
  }
  if (!note) {
    note = document.createElement("p");
    note.id = id;
    note.className = "field-error";
    (input.closest(".field") ?? input.parentElement)?.append(note);
    input.setAttribute("aria-describedby", [...describedBy(input), id].join(" "));
  }
  note.textContent = message;
  input.setAttribute("aria-invalid", "true");
}

/** @param {Element} input */
function describedBy(input) {
  return (input.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean);
}

/**
 * Check every input; mark each bad one at its field, put the first problem in `summary` and focus
 * that field. Returns whether all are fine.
 * @param {{input: HTMLInputElement | HTMLTextAreaElement, label: string, focus?: () => void}[]} fields
 * @param {HTMLElement} summary
 * @returns {boolean}
 */
export function checkFields(fields, summary) {
  /** @type {typeof fields[number] | null} */
  let first = null;
  for (const field of fields) {
    const message = problemWith(field.input);
    markField(field.input, message);
    if (message && first === null) {
      first = field;
      summary.textContent = `${field.label}: ${message}`;
    }
  }
  if (first === null) {
    summary.textContent = "";
    return true;
  }
  (first.focus ?? (() => first.input.focus()))();
  return false;
}

/**
 * Clear a field's message as soon as its value is fixed.
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 */
export function clearWhenFixed(input) {
  input.addEventListener("input", () => {
    if (input.getAttribute("aria-invalid") === "true" && problemWith(input) === "") markField(input, "");
  });
}
