// How much more the browser lets this site store, asked without assuming the Storage API exists:
// the service worker's install checks it before downloading the runtime (precache.js).

/**
 * How many more bytes the browser lets this site store, or null when it does not say. Feature
 * detected: WebKitGTK's MiniBrowser ships with the Storage API off (no `navigator.storage` at
 * all), and an engine may have no `estimate()` or reject it; none of that may fail the install,
 * which then goes ahead (a full disk still stops it, as a failed `cache.put`).
 * @param {{estimate?: () => Promise<StorageEstimate>} | undefined} storage  `navigator.storage`
 * @returns {Promise<number | null>}
 */
export async function freeSpace(storage) {
  if (typeof storage?.estimate !== "function") return null;
  try {
    const { quota, usage } = await storage.estimate();
    return quota !== undefined && usage !== undefined ? quota - usage : null;
  } catch {
    return null;
  }
}
