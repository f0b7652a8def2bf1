// The code editor for tasks that take Python source (run_code): CodeMirror 6, vendored from npm by
// build.py (dist/vendor/npm/, bare imports rewritten to relative paths: see VENDORED_ES_PACKAGES).
// It replaces a <textarea> on screen but keeps it as the form's value, so the form reads and
// validates code exactly as it reads any other field. The code is kept per task in localStorage.

const VENDOR = new URL("./vendor/npm/", import.meta.url);

/** @type {Promise<[typeof import("codemirror"), typeof import("@codemirror/view"), typeof import("@codemirror/state"), typeof import("@codemirror/commands"), typeof import("@codemirror/lang-python")]>} */
let modules;

/** Load CodeMirror once, on first use (the page does not pay for it until a code task is shown). */
function loadCodeMirror() {
  modules ??= Promise.all([
    import(new URL("codemirror/dist/index.js", VENDOR).href),
    import(new URL("@codemirror/view/dist/index.js", VENDOR).href),
    import(new URL("@codemirror/state/dist/index.js", VENDOR).href),
    import(new URL("@codemirror/commands/dist/index.js", VENDOR).href),
    import(new URL("@codemirror/lang-python/dist/index.js", VENDOR).href),
  ]);
  return modules;
}

/**
 * The localStorage key for a task's code.
 * @param {string} task
 */
export function storageKey(task) {
  return `offload.code.${task}`;
}

/**
 * The code saved for a task, or null (none saved, or storage unavailable: private mode, quota).
 * @param {string} task
 * @returns {string | null}
 */
export function savedCode(task) {
  try {
    return globalThis.localStorage.getItem(storageKey(task));
  } catch {
    return null;
  }
}

/**
 * @param {string} task
 * @param {string} code
 */
function saveCode(task, code) {
  try {
    globalThis.localStorage.setItem(storageKey(task), code);
  } catch {
    // Storage full or disabled: the editor still works, the code just does not outlive the page.
  }
}

/**
 * Put a code editor in place of `textarea` (which stays, hidden, holding the current code).
 *
 * Keys: Tab / Shift+Tab indent and dedent; Escape then Tab moves focus out (CodeMirror's "tab focus
 * mode", also toggled by Ctrl+M), so keyboard users are never trapped; Ctrl/Cmd+Enter calls `onRun`.
 * Line numbers are the ones Python's tracebacks use: the code is sent exactly as shown.
 *
 * @param {HTMLTextAreaElement} textarea  labelled by a <label for> and described by its hint
 * @param {{task: string, onRun: () => void}} options
 * @returns {Promise<import("@codemirror/view").EditorView>}
 */
export async function createCodeEditor(textarea, { task, onRun }) {
  const [{ basicSetup }, { EditorView, keymap }, { EditorState, Prec }, { indentWithTab }, { python }] =
    await loadCodeMirror();
  const saved = savedCode(task);
  if (saved !== null) textarea.value = saved;
  const label = textarea.labels?.[0];
  if (label && !label.id) label.id = `${textarea.id}-label`;
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        basicSetup,
        python(),
        keymap.of([indentWithTab]),
        // Highest precedence: basicSetup's keymap binds Mod-Enter to "insert blank line".
        Prec.highest(
          keymap.of([
            {
              key: "Mod-Enter",
              run: () => {
                onRun();
                return true;
              },
            },
          ]),
        ),
        EditorView.contentAttributes.of({
          "aria-labelledby": label?.id ?? "",
          "aria-describedby": textarea.getAttribute("aria-describedby") ?? "",
          "aria-multiline": "true",
        }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          saveCode(task, textarea.value);
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  view.dom.classList.add("code-editor");
  textarea.hidden = true;
  textarea.after(view.dom);
  // A click on the <label> would focus the hidden textarea: send it to the editor instead.
  label?.addEventListener("click", (event) => {
    event.preventDefault();
    view.focus();
  });
  return view;
}
