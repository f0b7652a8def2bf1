// How the socket client reaches the server: the transport seam. SocketClient (client.js) keeps the
// protocol's state (reconnects, unacknowledged messages); a transport only carries text frames and
// says when it opened and when it closed. `connectWebSocket` is the direct one and the only code
// of the page that touches `WebSocket`; a MessagePort to a SharedWorker that owns the browser's
// one WebSocket fits the same shape (its worker posts open / message / close to the port).

/**
 * What a transport reports, each at most in this order: `onOpen` once, `onMessage` per frame,
 * `onClose` exactly once (also when it never opened), after which the transport is spent.
 * @typedef {object} TransportEvents
 * @property {() => void} onOpen
 * @property {(text: string) => void} onMessage
 * @property {(code: number, reason: string) => void} onClose  a WebSocket close code
 */

/**
 * One connection attempt, as the socket client sees it.
 * @typedef {object} Transport
 * @property {(text: string) => void} send  send one text frame; only called between onOpen and onClose
 * @property {(code: number, reason: string) => Promise<ClosedSocket | null>} close  close it; no
 *   onClose follows. Resolves when the closing handshake ended (null when nothing was open, or
 *   when the connection is not this page's to close, as with a shared worker's).
 */

/**
 * How a closing handshake ended, as the browser saw it (`wasClean`: the other side answered).
 * @typedef {{code: number, reason: string, wasClean: boolean}} ClosedSocket
 */

/**
 * Opens a transport to `url` (a new one for every connection attempt).
 * @typedef {(url: string, events: TransportEvents) => Transport} Connect
 */

/**
 * A direct WebSocket to `url`.
 * @type {Connect}
 */
export function connectWebSocket(url, { onOpen, onMessage, onClose }) {
  const ws = new WebSocket(url);
  let closed = false;
  ws.onopen = () => onOpen();
  ws.onmessage = (event) => onMessage(String(event.data));
  ws.onclose = (event) => {
    if (!closed) onClose(event.code, event.reason);
  };
  // An error is always followed by close, which is where the client reconnects.
  ws.onerror = () => {};
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => {
      closed = true;
      if (ws.readyState > WebSocket.OPEN) return Promise.resolve(null);
      /** @type {Promise<ClosedSocket>} */
      const ended = new Promise((resolve) => {
        ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
      });
      ws.close(code, reason);
      return ended;
    },
  };
}
