// How long a response stays fresh in the browser's HTTP cache, from its headers (RFC 9111 section
// 4.2): the service worker leaves a request to the browser only while the browser's copy is fresh,
// since a stale copy would be revalidated with a server that may be gone.

/**
 * Until when (milliseconds since the epoch, like Date.now()) a response with these headers is
 * fresh: its `Date` plus `Cache-Control: max-age`, less its `Age`. Null when the headers give it
 * no lifetime: no `max-age` or no `Date`, or `no-cache`/`no-store` (always revalidated).
 * (`s-maxage` is for shared caches, not the browser's, and `Expires` is not used by our server.)
 * @param {Headers} headers
 * @returns {number | null}
 */
export function freshUntil(headers) {
  const directives = (headers.get("Cache-Control") ?? "")
    .toLowerCase()
    .split(",")
    .map((directive) => directive.trim());
  if (directives.includes("no-cache") || directives.includes("no-store")) return null;
  const maxAge = directives.find((directive) => directive.startsWith("max-age="));
  const seconds = maxAge === undefined ? Number.NaN : Number.parseInt(maxAge.slice("max-age=".length), 10);
  const date = Date.parse(headers.get("Date") ?? "");
  if (!Number.isFinite(seconds) || Number.isNaN(date)) return null;
  const age = Number.parseInt(headers.get("Age") ?? "0", 10);
  return date + (seconds - (Number.isFinite(age) ? age : 0)) * 1000;
}
