// A minimal page using Offload's worker client: start a worker, run a task, show its result.
// Served at /web/examples/minimal.html; the README's "Reusing it" walks through it.

import { PythonWorker } from "../../worker/client.js";

// Change these two to call your own task (see "Reusing it" in the README).
const TASK = "primes";
const PARAMS = { n: 1_000_000 };

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const button = /** @type {HTMLButtonElement} */ (byId("run"));
const progress = /** @type {HTMLProgressElement} */ (byId("progress"));
const status = byId("status");
const output = byId("result");

const worker = await PythonWorker.start();
button.textContent = `Run ${TASK}`;
button.disabled = false;
status.textContent = `Python ${worker.info?.python} is ready in a worker.`;

button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = `Running ${TASK}…`;
  const job = worker.run(TASK, PARAMS, {
    onProgress: (done, total) => {
      progress.value = total > 0 ? done / total : 0;
    },
  });
  try {
    const value = await job.result;
    output.textContent = JSON.stringify(value, null, 2);
    status.textContent = `${TASK} finished.`;
  } catch (error) {
    // A PythonError carries the Python exception's type, message and traceback.
    status.textContent = `${TASK} failed: ${/** @type {Error} */ (error).message}`;
  } finally {
    button.disabled = false;
  }
});
