// What a cancel is, decided in one place for both sides of the wire. The page stores SIGINT in the
// interrupt buffer (a SharedArrayBuffer: while Python runs, the worker reads no messages) and wakes
// whatever waits on shared memory; Pyodide raises KeyboardInterrupt in the running code; the run
// ends as `cancelled` on the same worker. Every other module asks here rather than naming
// KeyboardInterrupt or SIGINT itself. The Python side's one name for it is offload.runtime.Cancelled.

import { PythonError } from "./errors.js";
import { InputSlot, SIGINT } from "./protocol.js";

/** The Python exception a cancel raises, by the name it has in an outcome or a Pyodide error. */
export const PYTHON_CANCEL = "KeyboardInterrupt";

/**
 * Whether `failure` is a cancel: an outcome of offload.bridge (`name`) or an error Pyodide threw
 * into JavaScript (`type`), e.g. a cancel that landed in Python outside offload.bridge, or reached
 * a promise of Pyodide's event loop that nobody awaits. Either way the interpreter is fine.
 * @param {unknown} failure
 * @returns {boolean}
 */
export function isCancel(failure) {
  const { name, type } = /** @type {{name?: unknown, type?: unknown}} */ (failure ?? {});
  return type === PYTHON_CANCEL || name === PYTHON_CANCEL;
}

/**
 * The page asks the running job to stop: SIGINT into the interrupt buffer, and a wake-up for a
 * time.sleep or input() waiting in Atomics.wait, so it sees the interrupt now.
 * @param {Int32Array} interruptBuffer
 * @param {Int32Array | null} inputBuffer
 */
export function signalCancel(interruptBuffer, inputBuffer) {
  Atomics.store(interruptBuffer, 0, SIGINT);
  Atomics.notify(interruptBuffer, 0);
  if (inputBuffer) Atomics.notify(inputBuffer, InputSlot.STATE);
}

/**
 * The page forgets any cancel before it sends a job. Safe only while the worker is idle: a SIGINT
 * left from a job that finished as it was cancelled then cannot hit the next one.
 * @param {Int32Array | null} interruptBuffer
 */
export function clearCancel(interruptBuffer) {
  if (interruptBuffer) Atomics.store(interruptBuffer, 0, 0);
}

/**
 * The worker takes the signal out of the buffer, as Pyodide does when it raises: the signal's
 * number, or 0 when there was none.
 * @param {Int32Array} interruptBuffer
 * @returns {number}
 */
export function takeSignal(interruptBuffer) {
  return Atomics.exchange(interruptBuffer, 0, 0);
}

/**
 * The worker takes a cancel the page stored before the job got this far (e.g. cancel() right
 * after run()), so it ends the job at once instead of landing in whatever Python runs first. The
 * page clears the buffer before it sends a job, so a signal found now is this job's.
 * @param {Int32Array | null} interruptBuffer  null without isolation: nothing to take
 * @returns {boolean}
 */
export function takeCancel(interruptBuffer) {
  return interruptBuffer !== null && takeSignal(interruptBuffer) !== 0;
}

/**
 * Nobody cancels the warm-up: a SIGINT that stopped one of its steps was the page cancelling the
 * run it sent meanwhile (still queued in the worker). Put it back for that run's takeCancel.
 * @param {Int32Array | null} interruptBuffer
 */
export function handOnCancel(interruptBuffer) {
  if (interruptBuffer) Atomics.store(interruptBuffer, 0, SIGINT);
}

/**
 * What a `cancelled` reply means to a job nobody asked to stop: its own code raised
 * KeyboardInterrupt, an exception like any other.
 * @returns {PythonError}
 */
export function unaskedCancel() {
  return new PythonError(PYTHON_CANCEL, "", "");
}
