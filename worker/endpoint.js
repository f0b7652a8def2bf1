// The transport seam between the worker client and whatever runs Python, both ends of it: the part
// of a Worker the client uses (Comlink's `Endpoint` shape) with the default factory making a real
// one, and the part of a worker's global scope the dispatcher uses (dispatcher.js's `expose`, the
// twin of the client). In Node, where there is no browser Worker, the tests join the two ends in
// memory (tests/js/fake-worker.js) and run the real client against the real dispatcher.

/** @typedef {import("./protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("./protocol.js").WorkerReply} WorkerReply */

/**
 * What the client needs of a worker. A browser `Worker` is one; so is a test's fake.
 * `postMessage` throws (a DataCloneError) for a message that cannot be structured-cloned, as a
 * Worker's does; an "error" event means the worker's script died.
 * @typedef {{
 *   postMessage(message: WorkerRequest, transfer: Transferable[]): void;
 *   addEventListener(type: "message", listener: (event: {data: WorkerReply}) => void): void;
 *   addEventListener(type: "error",
 *                    listener: (event: {message: string, preventDefault(): void}) => void): void;
 *   terminate(): void;
 * }} Endpoint
 */

/** Makes a fresh endpoint: once at start, and again each time the client replaces its worker. */
/** @typedef {() => Endpoint} EndpointFactory */

/**
 * The worker's end: what the dispatcher needs of a worker's global scope (`self` is one).
 * @typedef {{
 *   postMessage(message: WorkerReply, transfer: Transferable[]): void;
 *   addEventListener(type: "message", listener: (event: {data: WorkerRequest}) => void): void;
 * }} WorkerEndpoint
 */

/**
 * The default endpoint: Offload's module worker (worker.js beside this file).
 * @returns {Endpoint}
 */
export function moduleWorker() {
  return new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
}
