// The errors a job can reject with. Their own module, so code that only needs to recognise or
// raise one (the page's main-thread demo, the pool) does not import the worker client.
// Every class sets `name`, so callers can also tell them apart after a structured clone.

/**
 * A Python exception raised by a task; `type` is the Python type, `traceback` Python's own text.
 */
export class PythonError extends Error {
  /** @param {string} type @param {string} message @param {string | undefined} traceback */
  constructor(type, message, traceback) {
    super(`${type}: ${message}`);
    this.name = "PythonError";
    /** The Python exception type, e.g. "ValueError". */
    this.type = type;
    /** The Python exception's own message, without the type. */
    this.pythonMessage = message;
    this.traceback = traceback ?? "";
  }
}

/** The job was cancelled (`job.cancel()` or its AbortSignal) before it finished. */
export class CancelledError extends Error {
  /** @param {string} [message] */
  constructor(message = "The job was cancelled.") {
    super(message);
    this.name = "CancelledError";
  }
}

/** The job's `timeout` passed before it finished. */
export class TimeoutError extends Error {
  /** @param {number} timeout */
  constructor(timeout) {
    super(`The job did not finish within its timeout of ${timeout} ms.`);
    this.name = "TimeoutError";
    this.timeout = timeout;
  }
}

/** The worker failed to boot, died (a crash, out of memory) or was terminated. */
export class WorkerCrashedError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "WorkerCrashedError";
  }
}

/**
 * The job's request could not be sent to the worker: postMessage refused it, almost always
 * because a param cannot be structured-cloned (a function, a DOM node, a class instance's
 * methods...). The worker never saw the job and runs the next one; `cause` is the browser's error.
 */
export class RequestError extends Error {
  /** @param {string} message @param {unknown} cause */
  constructor(message, cause) {
    super(message, { cause });
    this.name = "RequestError";
  }
}
