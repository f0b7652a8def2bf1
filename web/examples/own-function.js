// Calls the page's own Python (mymod.py, beside it) in a worker, with progress, cancel and the
// errors a call can meet. Served at /web/examples/own-function.html; see "Reusing it" in the README.

import { PythonWorker } from "../../worker/client.js";

/** @param {string} id */
const byId = (id) => /** @type {HTMLButtonElement} */ (document.getElementById(id));
const progress = /** @type {HTMLProgressElement} */ (/** @type {unknown} */ (byId("progress")));
const [n, cancel, status, output] = [byId("n"), byId("cancel"), byId("status"), byId("result")];

/** @param {string} state @param {string} text */
const show = (state, text) => {
  status.dataset.state = state;
  status.textContent = text;
};

// The module's URL is relative to this page: the worker fetches it before it is ready.
const worker = await PythonWorker.start({ modules: ["./mymod.py"] });
show("ready", `Python ${worker.info?.python} is ready with mymod.py.`);
// What each button calls: [function, args, kwargs]. The last three fail on purpose.
/** @type {Record<string, [string, () => unknown[], Record<string, unknown>]>} */
const CALLS = {
  primes: ["mymod.count_primes", () => [Number(n.value)], {}],
  words: ["mymod.word_stats", () => ["the cat and the hat and the bat"], { top: 2 }],
  "missing-module": ["notmine.count_primes", () => [10], {}], // no such module was given
  "bad-argument": ["mymod.count_primes", () => [], { limit: 10 }], // count_primes(n) has no limit
  exception: ["mymod.word_stats", () => [""], {}], // word_stats raises ValueError on no text
};
/** One call at a time: while it runs, only Cancel is enabled. @param {boolean} on */
const busy = (on) => {
  for (const id of Object.keys(CALLS)) byId(id).disabled = on;
  cancel.disabled = !on;
};
/** @type {import("../../worker/client.js").Job<unknown> | null} */
let running = null;
cancel.addEventListener("click", () => running?.cancel());
for (const [id, [name, args, kwargs]] of Object.entries(CALLS)) {
  byId(id).addEventListener("click", async () => {
    busy(true);
    show("running", `Calling ${name}…`);
    [output.textContent, progress.value] = ["", 0];
    const onProgress = (/** @type {number} */ done, /** @type {number} */ total) => {
      progress.value = total > 0 ? done / total : 0;
    };
    running = worker.call(name, args(), { kwargs, onProgress });
    try {
      output.textContent = JSON.stringify(await running.result);
      show("finished", `${name} finished.`);
    } catch (error) {
      // CancelledError, or a PythonError whose `type` says which: MissingModuleError,
      // ArgumentError, or your function's own exception (its traceback starts in mymod.py).
      const { name: kind, message, traceback } = /** @type {any} */ (error);
      show(kind === "CancelledError" ? "cancelled" : "failed", `${name} failed: ${message}`);
      output.textContent = traceback ?? "";
    }
    busy(false);
  });
}
busy(false);
