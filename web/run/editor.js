// The code editor for tasks that take Python source (run_code): CodeMirror 6, vendored from npm by
// build.py (dist/vendor/npm/, bare imports rewritten to relative paths: see VENDORED_ES_PACKAGES).
// It replaces a <textarea> on screen but keeps it as the form's value, so the form reads and
// validates code exactly as it reads any other field. The code is kept per task in localStorage.
// The editor lives in a shadow root: CodeMirror injects its styles with a <style> element, which the
// page's CSP (style-src 'self') blocks in a document, but in a shadow root it adopts constructed
// style sheets (CSSStyleSheet), which the CSP allows; no 'unsafe-inline' needed.

const VENDOR = new URL("../../vendor/npm/", import.meta.url);

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
 * The page's look, inside the shadow root (style.css does not reach in).
 * @param {typeof import("@codemirror/view").EditorView} EditorView
 */
function THEME(EditorView) {
  return EditorView.theme({
    "&": {
      border: "1px solid #94a3b8",
      borderRadius: "0.35rem",
      background: "white",
      fontSize: "0.85rem",
      maxHeight: "22rem",
    },
    "&.cm-focused": { outline: "3px solid #f59e0b", outlineOffset: "2px" },
    ".cm-scroller": { fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', minHeight: "8rem", overflow: "auto" },
    ".cm-gutters": { background: "#f1f5f9", color: "#475569" },
  });
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
  const host = document.createElement("div");
  host.className = "code-editor-host";
  const root = host.attachShadow({ mode: "open" });
  // aria-labelledby/-describedby cannot point across a shadow boundary: say it in the label.
  const name = `${label?.textContent ?? "code"} (Python; Ctrl+Enter runs it in the worker; Escape then Tab leaves the editor)`;
  const view = new EditorView({
    root,
    parent: root,
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
        // tabindex: axe (scrollable-region-focusable) does not count a bare contenteditable as focusable
        // when a long line makes the scroller scroll sideways on a phone.
        EditorView.contentAttributes.of({ "aria-label": name, "aria-multiline": "true", tabindex: "0" }),
        THEME(EditorView),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          saveCode(task, textarea.value);
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  textarea.hidden = true;
  textarea.after(host);
  // A click on the <label> would focus the hidden textarea: send it to the editor instead.
  label?.addEventListener("click", (event) => {
    event.preventDefault();
    view.focus();
  });
  return view;
}
