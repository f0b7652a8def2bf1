// The page's half of the coi-serviceworker pattern (the worker's half is isolation.js): on a
// static host the first load is not cross-origin isolated; once the service worker controls the
// page and adds the isolation headers, one reload makes it so. At most once per tab session,
// so a browser that still will not isolate the page is never reloaded in a loop.

/** sessionStorage key: set just before the one reload. */
export const RELOADED_KEY = "offload-isolation-reload";

/**
 * What the page does about isolation, decided from what it can see.
 * @typedef {"isolated" | "no-worker" | "server-decides" | "reload" | "gave-up"} IsolationStep
 */

/**
 * Decide: `isolated` already; `no-worker` when no service worker can help (not a secure context);
 * `server-decides` when the page's own response, through the worker, has no COEP (the Offload
 * server chose to send none, `--no-isolation`); else `reload`, unless that was tried already in
 * this session (`gave-up`).
 * @param {{isolated: boolean, serviceWorker: boolean, coep: string | null, reloaded: boolean}} seen
 * @returns {IsolationStep}
 */
export function isolationStep({ isolated, serviceWorker, coep, reloaded }) {
  if (isolated) return "isolated";
  if (!serviceWorker) return "no-worker";
  if (coep !== "require-corp") return "server-decides";
  return reloaded ? "gave-up" : "reload";
}

/**
 * Once a service worker controls this page, reload it if that makes it isolated (see above).
 * @param {(step: IsolationStep) => void} onStep  told what was decided (before a reload)
 */
export async function isolateThroughServiceWorker(onStep) {
  if (globalThis.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED_KEY);
    return;
  }
  if (!globalThis.isSecureContext || !("serviceWorker" in navigator)) return;
  const container = navigator.serviceWorker;
  if (container.controller === null) {
    await new Promise((resolve) => container.addEventListener("controllerchange", resolve, { once: true }));
  }
  // The page's own address, through the worker: the headers a reload would get.
  const response = await fetch(globalThis.location.href, { cache: "no-store" });
  await response.body?.cancel();
  const step = isolationStep({
    isolated: false,
    serviceWorker: true,
    coep: response.headers.get("Cross-Origin-Embedder-Policy"),
    reloaded: sessionStorage.getItem(RELOADED_KEY) !== null,
  });
  onStep(step);
  if (step === "reload") {
    sessionStorage.setItem(RELOADED_KEY, "1");
    globalThis.location.reload();
  }
}
