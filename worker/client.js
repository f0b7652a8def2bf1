// The main-thread API over Pyodide workers, the one module an app imports: PythonWorker (one
// worker), WorkerPool (several, with split runs) and the errors a job rejects with. It only
// re-exports; the modules below import one another in one direction (pool -> python-worker ->
// endpoint, errors, protocol), never back. docs/worker-protocol.md describes the API in full.
//
//   import { PythonWorker, WorkerPool, CancelledError } from "/worker/client.js";

export { DEFAULT_GRACE_MS, PythonWorker } from "./python-worker.js";
export { WorkerPool, defaultPoolSize, splitRange } from "./pool.js";
export { moduleWorker } from "./endpoint.js";
export {
  CancelledError,
  PythonError,
  RequestError,
  TimeoutError,
  WorkerCrashedError,
} from "./errors.js";

/** @typedef {import("./python-worker.js").RunOptions} RunOptions */
/** @typedef {import("./python-worker.js").WorkerOptions} WorkerOptions */
/** @template T @typedef {import("./python-worker.js").Job<T>} Job */
/** @typedef {import("./pool.js").PoolOptions} PoolOptions */
/** @typedef {import("./pool.js").SplitOptions} SplitOptions */
/** @typedef {import("./pool.js").Part} Part */
/** @typedef {import("./endpoint.js").Endpoint} Endpoint */
