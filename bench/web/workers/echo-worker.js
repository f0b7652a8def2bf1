// Sends every ArrayBuffer it receives straight back, moved (`transfer: true`) or copied: the
// benchmark's transfer-versus-structured-clone round trip, with no Python involved.

const scope = /** @type {DedicatedWorkerGlobalScope} */ (/** @type {unknown} */ (self));

scope.onmessage = (/** @type {MessageEvent<{buffer: ArrayBuffer, transfer: boolean}>} */ event) => {
  const { buffer, transfer } = event.data;
  scope.postMessage({ buffer, transfer }, transfer ? [buffer] : []);
};
