// Where this page's server is: on the page's own origin (the Offload server served the page), at
// the address given with `?server=ws://host:port/ws` (or wss://; that server must allow this
// page's origin with --allow-origin), or nowhere (a static host served the page: its responses
// lack Offload's own header). The socket and the results history both ask here.

/**
 * @typedef {object} ServerPlace
 * @property {string} socketUrl  the ws:// or wss:// URL of /ws
 * @property {string} apiBase  the http(s) origin whose /api/ holds the results, ending in "/"
 * @property {string | null} given  the `?server=` value it came from, or null (the page's origin)
 */

/**
 * The server a page at `pageUrl` talks to.
 * @param {string} pageUrl
 * @returns {ServerPlace}
 * @throws {Error} `?server=` is not a ws:// or wss:// URL (said on the page)
 */
export function serverPlace(pageUrl) {
  const page = new URL(pageUrl);
  const given = page.searchParams.get("server");
  if (given === null) {
    const socket = new URL("/ws", page);
    socket.protocol = page.protocol === "https:" ? "wss:" : "ws:";
    return { socketUrl: socket.href, apiBase: new URL("/", page).href, given: null };
  }
  /** @type {URL} */
  let socket;
  try {
    socket = new URL(given);
  } catch {
    throw new Error(`?server=${given} is not a URL: give the server's socket, e.g. wss://class.example.org/ws`);
  }
  if (socket.protocol !== "ws:" && socket.protocol !== "wss:") {
    throw new Error(`?server=${given} must start with ws:// or wss://`);
  }
  const api = new URL("/", socket);
  api.protocol = socket.protocol === "wss:" ? "https:" : "http:";
  return { socketUrl: socket.href, apiBase: api.href, given };
}

// The site's root is two folders up from this module (web/socket/), under any path prefix.
const BUILD_INFO_URL = new URL("../../build-info.json", import.meta.url).href;

/** The header every Offload response carries (server/headers.py SERVED_BY_OFFLOAD). */
export const SERVED_BY_OFFLOAD = "X-Offload-Server";

/**
 * Whether an Offload server answers for `place`, and its latest results. On the page's own
 * origin: build-info.json (a file every host of the site serves, so no 404 in the console) came
 * with Offload's header. Elsewhere (`?server=`): its /api/results answered. A network error
 * (offline, a server restarting) is not "no server": the socket keeps trying then.
 * @param {ServerPlace} place
 * @param {typeof fetch} [get]
 * @returns {Promise<{present: boolean, results: unknown[]}>}
 */
export async function probeServer(place, get = fetch) {
  try {
    if (place.given === null) {
      const info = await get(BUILD_INFO_URL);
      await info.body?.cancel();
      if (!info.headers.has(SERVED_BY_OFFLOAD)) return { present: false, results: [] };
    }
    const response = await get(new URL("api/results?limit=10", place.apiBase).href);
    return { present: true, results: response.ok ? await response.json() : [] };
  } catch {
    return { present: true, results: [] };
  }
}
