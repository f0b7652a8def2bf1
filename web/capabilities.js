// What this browser gives the page here, detected, never assumed: the one module that asks. A
// page on plain http at an address other than the browser's own loopback is not a secure context:
// there is no crypto.subtle (the start-up snapshot's digest), no service worker (offline use), no
// Web Locks, no OPFS, and COOP/COEP are ignored, so no cross-origin isolation and no
// SharedArrayBuffer (Cancel that interrupts, `input()`). Everything still computes; this names
// what is missing, why, and how to get it (README "Host it for a class", docs/hosting.md).

/** Where the page sends a reader who wants the rest: the README's section, served with the site. */
export const HOSTING_HELP = "../README.md#host-it-for-a-class";

/**
 * What a global scope offers, read once.
 * @typedef {object} Capabilities
 * @property {boolean} secureContext  https, or http on the browser's own loopback
 * @property {boolean} crossOriginIsolated  COOP/COEP took effect (needs a secure context)
 * @property {boolean} sharedMemory  SharedArrayBuffer exists: Cancel interrupts, `input()` works
 * @property {boolean} digest  crypto.subtle: the start-up snapshot's check
 * @property {boolean} opfs  navigator.storage.getDirectory: where the snapshot is kept
 * @property {boolean} serviceWorker  offline use
 * @property {boolean} webLocks  one socket shared by every tab
 * @property {boolean} randomUUID  crypto.randomUUID (message ids fall back to getRandomValues)
 */

/**
 * Read what `scope` (a window or a worker's global scope) offers.
 * @param {any} [scope]
 * @returns {Capabilities}
 */
export function detectCapabilities(scope = globalThis) {
  const navigator = scope.navigator ?? {};
  const secureContext = scope.isSecureContext === true;
  const crossOriginIsolated = scope.crossOriginIsolated === true;
  return {
    secureContext,
    crossOriginIsolated,
    sharedMemory: crossOriginIsolated && typeof scope.SharedArrayBuffer === "function",
    digest: typeof scope.crypto?.subtle?.digest === "function",
    opfs: typeof navigator.storage?.getDirectory === "function",
    serviceWorker: secureContext && "serviceWorker" in navigator,
    webLocks: typeof navigator.locks?.request === "function",
    randomUUID: typeof scope.crypto?.randomUUID === "function",
  };
}

/**
 * What the page tells its reader about `found`: null when nothing is missing, else a state
 * ("insecure" or "not-isolated") and one sentence naming what is off, why, and the fix.
 * @param {Capabilities} found
 * @returns {{state: "insecure" | "not-isolated", text: string} | null}
 */
export function describeCapabilities(found) {
  if (!found.secureContext) {
    return {
      state: "insecure",
      text:
        "Not a secure context (plain http on an address other than this computer's own): Python " +
        "starts from scratch each time, Cancel restarts the worker, and input() and offline use " +
        "are off. Serve the page over HTTPS to get them.",
    };
  }
  if (!found.sharedMemory) {
    return {
      state: "not-isolated",
      text:
        "Secure, but not cross-origin isolated (the server sent no COOP/COEP headers, or the " +
        "service worker has not added them yet): Cancel restarts the worker and input() is off.",
    };
  }
  return null;
}

/**
 * A message id: crypto.randomUUID where the context offers it (secure contexts only), else a
 * version-4 UUID from crypto.getRandomValues, which every context has.
 * @returns {string}
 */
export function randomId() {
  if (typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
