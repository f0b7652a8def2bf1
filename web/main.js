// The page's entry point: starts the Python worker and the server connection, wires the controls.

import { PythonWorker } from "./worker/client.js";
import { SocketClient } from "./socket.js";

/** @param {string} id */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found;
}

/** @param {HTMLElement} target @param {string} state @param {string} text */
function show(target, state, text) {
  target.dataset.state = state;
  target.textContent = text;
}

async function startWorker() {
  const status = element("worker-status");
  const button = /** @type {HTMLButtonElement} */ (element("run-primes"));
  const output = element("primes-result");
  try {
    const worker = await PythonWorker.start();
    const info = /** @type {import("./worker/protocol.js").ReadyReply} */ (worker.info);
    show(status, "ready", "ready");
    element("python-version").textContent = `Python ${info.python} (Pyodide ${info.pyodide})`;
    element("load-time").textContent = `${(info.timings.total / 1000).toFixed(2)} s`;
    button.disabled = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      output.textContent = "counting…";
      const started = performance.now();
      try {
        const { count } = await worker.run("primes", { n: 2_000_000 }).result;
        const ms = performance.now() - started;
        output.textContent = `${count.toLocaleString("en")} primes (${ms.toFixed(0)} ms)`;
      } catch (error) {
        output.textContent = `${/** @type {Error} */ (error).message}`;
      } finally {
        button.disabled = false;
      }
    });
  } catch (error) {
    show(status, "failed", `failed: ${/** @type {Error} */ (error).message}`);
  }
}

function connectSocket() {
  const state = element("socket-state");
  const version = element("server-version");
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new SocketClient({
    url: url.href,
    onState: (name, detail) => {
      const extra = detail?.code ? ` (code ${detail.code}${detail.meaning ? `: ${detail.meaning}` : ""})` : "";
      show(state, name, `${name}${extra}`);
    },
    onMessage: (message) => {
      if (message.type === "hello") version.textContent = `Offload server ${message.server_version ?? message.version ?? "?"}`;
    },
  });
  socket.connect();
}

startWorker();
connectSocket();
