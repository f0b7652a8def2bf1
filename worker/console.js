// The console of a person's code (offload.interactive): input() and time.sleep over shared memory.
// Worker-only: Atomics.wait may not block a page's main thread. Python blocks the worker while it
// runs, so neither an answer nor a cancel can arrive as a message. Both wait with Atomics.wait,
// which the page's notify after a cancel wakes: input() in short slices with
// pyodide.checkInterrupt() between them, as Pyodide's docs show (usage/keyboard-interrupts.md),
// time.sleep on the interrupt buffer itself. Either way a cancel raises KeyboardInterrupt in the
// waiting code and the interpreter lives on.

import { takeSignal } from "./cancel.js";
import { ANSWER_OFFSET, InputSlot, InputState } from "./protocol.js";

/** @typedef {import("pyodide").PyodideAPI} PyodideAPI */
/** @typedef {import("./python.js").Python} Python */

/** The longest Atomics.wait between two interrupt checks: bounds how late a cancel is seen. */
export const WAIT_SLICE_MS = 50;

/**
 * A `time.sleep` that Cancel ends at once: it waits on the interrupt buffer itself, so the page's
 * Atomics.notify after storing SIGINT wakes it. It takes the signal out of the buffer and returns
 * it; offload.interactive then runs Python's handler (KeyboardInterrupt). Raising it here with
 * pyodide.checkInterrupt() would turn the KeyboardInterrupt into a JavaScript error and back.
 * @param {Int32Array} interruptBuffer
 * @returns {(seconds: number) => number}  the signal that ended the sleep early, else 0
 */
export function blockingSleep(interruptBuffer) {
  return (seconds) => {
    const deadline = performance.now() + seconds * 1000;
    for (let left = seconds * 1000; left > 0; left = deadline - performance.now()) {
      // Returns at once when a signal is already stored: one sent just before is not missed.
      Atomics.wait(interruptBuffer, 0, 0, left);
      const signal = takeSignal(interruptBuffer);
      if (signal !== 0) return signal;
    }
    return 0;
  };
}

/**
 * An `input()` that asks the page and waits for its answer in the input buffer.
 * @param {PyodideAPI} pyodide
 * @param {Int32Array} inputBuffer  see InputSlot / InputState in protocol.js
 * @param {(prompt: string) => void} ask  tells the page (posts the `input` reply)
 * @returns {(prompt: string) => string | undefined}  undefined: no answer (end of input); it
 *   reaches Python as None (a JS null would arrive as pyodide.ffi.jsnull)
 */
export function blockingInput(pyodide, inputBuffer, ask) {
  return (prompt) => {
    Atomics.store(inputBuffer, InputSlot.STATE, InputState.WAITING);
    ask(prompt);
    for (;;) {
      Atomics.wait(inputBuffer, InputSlot.STATE, InputState.WAITING, WAIT_SLICE_MS);
      pyodide.checkInterrupt();
      const state = Atomics.load(inputBuffer, InputSlot.STATE);
      if (state === InputState.NO_ANSWER) return undefined;
      if (state === InputState.ANSWERED) {
        const length = Atomics.load(inputBuffer, InputSlot.LENGTH);
        // TextDecoder refuses views of shared memory: copy the bytes out first.
        const bytes = new Uint8Array(inputBuffer.buffer, ANSWER_OFFSET, length).slice();
        return new TextDecoder().decode(bytes);
      }
    }
  };
}

/** Why input() cannot ask in a page without cross-origin isolation (shown as its EOFError). */
export const NOT_ISOLATED =
  "input() cannot wait for your answer here: the page is not cross-origin isolated (it was " +
  "served without the Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), so " +
  "there is no SharedArrayBuffer for the worker to wait on";

/**
 * Install the console offload.interactive hands to a person's code: input() and time.sleep over
 * the shared buffers when there are any, and the wheelhouse's names for a missing module's hint.
 * @param {Python} python
 * @param {{interruptBuffer: Int32Array | null, inputBuffer: Int32Array | null,
 *          ask: (prompt: string) => void}} options
 */
export function installConsole({ pyodide }, { interruptBuffer, inputBuffer, ask }) {
  const interactive = pyodide.pyimport("offload.interactive");
  // undefined, not null, for "none": Python receives undefined as None, null as jsnull.
  const readLine = inputBuffer ? blockingInput(pyodide, inputBuffer, ask) : undefined;
  // Without an interrupt buffer Cancel restarts the worker anyway: Pyodide's own sleep will do.
  const sleep = interruptBuffer ? blockingSleep(interruptBuffer) : undefined;
  const wheelhouse = Object.keys(pyodide.lockfile.packages).filter((name) => name !== "offload");
  interactive.install(readLine, sleep, NOT_ISOLATED, wheelhouse);
  interactive.destroy();
}
