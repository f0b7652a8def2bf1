// The page's entry point, wiring only: builds the parts (frame meter, chart, form, runner, socket
// panel, sharing...) and connects them to the Python workers and to the server. Each part lives in
// its own module; every name here is declared before anything uses it.

import { WorkerPool, defaultPoolSize, splitRange } from "../worker/client.js";
import { HOSTING_HELP, describeCapabilities, detectCapabilities } from "./capabilities.js";
import { DataPanel } from "./data/data-panel.js";
import { afterFirstPaint, showBoots } from "./meter/boot-view.js";
import { FrameMeter } from "./meter/frame-meter.js";
import { attachProbe } from "./meter/latency-probe.js";
import { animate } from "./meter/motion.js";
import { showTimeline } from "./meter/timeline-chart.js";
import { isolateThroughServiceWorker } from "./offline/isolation-reload.js";
import { OfflinePanel } from "./offline/panel.js";
import { checkFields } from "./run/field-check.js";
import { MainThreadGuard } from "./run/main-thread-guard.js";
import { ResultView } from "./run/result-view.js";
import { RunController } from "./run/run-controller.js";
import { RunsTable } from "./run/runs-table.js";
import { TaskForm } from "./run/task-form.js";
import { ResultSharing } from "./share/result-sharing.js";
import { ShareSettings } from "./share/share-settings.js";
import { SharedJobPanel } from "./share/shared-job.js";
import { connectSharedSocket, socketMode, withDirectFallback } from "./socket/port.js";
import { ServerType } from "./socket/protocol.js";
import { SocketClient } from "./socket/client.js";
import { browserOutbox } from "./socket/outbox.js";
import { probeServer, serverPlace } from "./socket/server-place.js";
import { LifecycleView } from "./socket-view/lifecycle-view.js";
import { SocketPanel } from "./socket-view/socket-panel.js";

/** @typedef {import("./run/run-controller.js").RunRecord} RunRecord */
/** @typedef {import("./socket/protocol.js").StoredResult} StoredResult */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return /** @type {T} */ (found);
}

/** @param {HTMLElement} target @param {string} state @param {string} text */
function show(target, state, text) {
  target.dataset.state = state;
  target.textContent = text;
}

// --- what the workers give the page: the pool, the tasks it reported, the form built from them ----

/** @type {WorkerPool | null} */
let pool = null;
/** @type {Map<string, import("../worker/protocol.js").TaskInfo>} the tasks the workers reported */
let schemas = new Map();
/** @type {TaskForm | null} */
let form = null;

// --- the main thread's own health: animation, frame meter, chart, click probe ---------------------

const meter = new FrameMeter();
meter.start();
animate(element("js-ball"));
void showTimeline(element("timeline"), () => meter.frames);
setInterval(() => {
  element("fps").textContent = String(meter.fps());
  element("long-tasks").textContent = String(meter.longTasks);
}, 250);
attachProbe(element("probe"), element("probe-count"), element("probe-delay"));

// What this context offers (web/capabilities.js): named on the page when something is missing.
const found = detectCapabilities();
const missing = describeCapabilities(found);
const isolated = found.sharedMemory;
show(element("isolation"), isolated ? "ready" : "failed", isolated ? "cross-origin isolated" : "not isolated");
if (missing) {
  const note = element("capabilities");
  note.dataset.state = missing.state;
  element("capabilities-text").textContent = missing.text;
  /** @type {HTMLAnchorElement} */ (element("capabilities-help")).href = HOSTING_HELP;
  note.hidden = false;
}
element("isolation-note").textContent = isolated
  ? "The page is cross-origin isolated, so Cancel interrupts Python at once through shared memory."
  : !found.secureContext
    ? "The page is not a secure context (plain http), so it cannot be cross-origin isolated: Cancel restarts the worker."
    : "The page is not cross-origin isolated (no COOP/COEP headers), so Cancel has to restart the worker.";

// --- the service worker: this build cached for offline use ----------------------------------------

const offline = new OfflinePanel({
  load: element("offline-load"),
  state: element("offline-state"),
  cache: element("offline-cache"),
  log: element("offline-log"),
  clear: element("offline-clear"),
});

// --- what a finished run changes: the runs table, the guard's estimates, what is shared ----------

const runs = new RunsTable(element("runs"));
const share = new ShareSettings({
  checkbox: element("share-results"),
  hint: element("share-hint"),
  preview: element("share-preview"),
});
const guard = new MainThreadGuard(
  { dialog: element("main-thread-warning"), text: element("warning-text") },
  (task, params) => /** @type {WorkerPool} */ (pool).run(task, params).result,
);

// --- the server connection ------------------------------------------------------------------------

const panel = new SocketPanel({
  state: element("socket-state"),
  chip: element("socket-chip"),
  version: element("server-version"),
  peers: element("peers"),
  handshake: element("handshake-text"),
  log: element("frame-log"),
  shared: element("shared-results"),
  mode: element("socket-mode"),
  tabs: element("browser-tabs"),
  waiting: element("outbox-waiting"),
});
const outbox = browserOutbox();
panel.watchOutbox(outbox);

// One WebSocket for all of this browser's tabs (a SharedWorker owns it), or this tab's own.
// Where the server is: this origin, `?server=wss://…`, or (a static host) nowhere.
/** @type {import("./socket/server-place.js").ServerPlace | null} */
let place = null;
try {
  place = serverPlace(globalThis.location.href);
} catch (error) {
  panel.showAbsent(/** @type {Error} */ (error).message);
}
let socketChoice = place?.given
  ? { mode: /** @type {const} */ ("direct"), why: "a server elsewhere, given with ?server=" }
  : socketMode();
panel.showMode(socketChoice.mode, socketChoice.why);
const socket = new SocketClient({
  url: place?.socketUrl,
  outbox,
  connect:
    socketChoice.mode === "shared"
      ? withDirectFallback(
          connectSharedSocket({
            onTabs: (info) => panel.showTabs(info),
            onTraffic: (frame) => panel.logTraffic(frame),
          }),
          (why) => {
            socketChoice = { mode: "direct", why };
            panel.showMode("direct", why);
          },
        )
      : undefined,
});

const lifecycle = new LifecycleView(
  {
    steps: element("lifecycle"),
    close: element("ws-close"),
    reopen: element("ws-reopen"),
    persistent: element("ws-persistent"),
    pushes: element("ws-pushes"),
    overhead: element("ws-overhead"),
    measure: element("ws-measure"),
  },
  socket,
  { shared: socketChoice.mode === "shared", apiBase: place?.apiBase },
);

const sharedJob = new SharedJobPanel(
  {
    start: element("job-start"),
    join: element("job-join"),
    estimate: element("job-estimate"),
    progress: element("job-progress"),
    mine: element("job-mine"),
  },
  socket,
  // Looked up at each chunk: the pool is replaced when its size changes.
  () => ({
    runTask: (task, params) => /** @type {WorkerPool} */ (pool).run(task, params).result,
    slots: /** @type {WorkerPool} */ (pool).size,
  }),
);

const sharing = new ResultSharing({
  settings: share,
  socket,
  onShared: (result) => panel.addShared(result, true),
});

// What the socket reports goes to the views above; it reports nothing before connect().
/** @typedef {Required<import("./socket/client.js").SocketClientOptions>} SocketListeners */
/** @type {SocketListeners["onState"]} */
socket.onState = (state, detail) => {
  panel.showState(state, detail);
  lifecycle.showState(state, detail);
};
/** @type {SocketListeners["onFrame"]} */
socket.onFrame = (frame) => {
  // In shared mode the worker reports every frame of the connection, with the tab it was for.
  if (socketChoice.mode !== "shared") panel.logFrame(frame);
  lifecycle.showFrame(frame);
};
/** @type {SocketListeners["onMessage"]} */
socket.onMessage = (message) => {
  switch (message.type) {
    case ServerType.HELLO:
      panel.showHello(message);
      lifecycle.showHello(message);
      break;
    case ServerType.PEERS:
      panel.showPeers(message.connections, message.tabs);
      break;
    case ServerType.SERVER:
      panel.showServerStatus(message.ok, message.message);
      break;
    case ServerType.PEER_RESULT:
      // A sibling tab's result has this connection's client id (the socket worker shows it).
      panel.addShared(message.result, false, message.result.client_id === socket.clientId);
      break;
    case ServerType.JOB_PROGRESS:
      sharedJob.show(message);
      break;
    default:
      break; // acks are the socket client's business; other kinds are shown in the frame log
  }
};
// Connected only where a server answers: a static host has none, and a WebSocket to it would
// fail (a console error) and reconnect forever.
if (place) {
  probeServer(place).then(({ present, results }) => {
    if (!present) {
      panel.showAbsent(
        "no server here: a static host served this page, so Python runs in this browser only " +
          "(no shared results or jobs). Open it with ?server=wss://host/ws to use a server elsewhere.",
      );
      return;
    }
    socket.connect();
    // History is a nicety: with the server down the page still computes.
    for (const result of /** @type {StoredResult[]} */ (results).reverse()) {
      panel.addShared(result, result.client_id === socket.clientId);
    }
  });
}

/** @param {RunRecord} record */
function onFinished(record) {
  const task = form?.tasks.get(record.task);
  // A split run had the whole pool: one thread (the main one) would take about pool-size times as long.
  const threads = record.where === "worker" && task && splitRange(task) !== null ? (pool?.size ?? 1) : 1;
  if (record.ok && task) guard.record(task, record.params, record.durationMs * threads);
  runs.add(record);
  sharing.offer(record, task);
}

// --- the person's own data ------------------------------------------------------------------------

new DataPanel(
  {
    file: element("data-file"),
    drop: element("data-drop"),
    size: element("sample-size"),
    sample: element("make-sample"),
    worker: element("data-worker"),
    main: element("data-main"),
    cancel: element("data-cancel"),
    progress: element("data-progress"),
    status: element("data-status"),
    summary: element("data-summary"),
  },
  {
    // Looked up at each run: the pool is replaced when its size changes.
    run: () => (task, params, options) => /** @type {WorkerPool} */ (pool).run(task, params, options),
    meter,
  },
);

// --- Python in the workers ------------------------------------------------------------------------

/**
 * The runner the controller uses: a task that declares a splittable range (an image's rows) is
 * split across the whole pool, each part drawn as it arrives; any other runs on the next free
 * worker.
 * @returns {import("./run/run-controller.js").WorkerRunner}
 */
function poolRunner() {
  return {
    run: (task, params, hooks) => {
      const current = /** @type {WorkerPool} */ (pool);
      const schema = schemas.get(task);
      if (!schema || !splitRange(schema)) {
        const { onProgress, onStdout, onInput } = hooks;
        const job = current.run(task, params, { onProgress, onStdout, onInput });
        return { result: job.result, cancel: job.cancel };
      }
      return current.runSplit(task, params, {
        onProgress: hooks.onProgress,
        onPart: (part) => {
          if (part.value instanceof ArrayBuffer) hooks.onBand(part.start, part.value);
        },
      });
    },
  };
}

/**
 * (Re)start the pool with `size` workers. Resolves with the first worker's ready reply, as soon as
 * one is ready: runs can start then (the pool hands work to whichever worker is ready, the rest
 * join as they boot). `allReady` settles once every worker has booted (or one failed).
 * @param {number} size
 * @returns {Promise<{info: import("../worker/protocol.js").ReadyReply, allReady: Promise<void>}>}
 */
async function startPool(size) {
  const status = element("worker-status");
  show(status, "starting", size === 1 ? "starting…" : `starting ${size} workers…`);
  pool?.terminate();
  const current = new WorkerPool({ size });
  pool = current;
  // The first worker up is enough to build the form and accept runs; any worker failing to boot
  // still fails the start, as before (pool.ready rejects with it; once all are up it never wins).
  /** @type {import("../worker/protocol.js").ReadyReply} */
  const info = await Promise.race([current.firstReady, current.ready.then(() => new Promise(() => {}))]);
  schemas = new Map(info.tasks.map((task) => [task.name, task]));
  element("python-version").textContent = `Python ${info.python} (Pyodide ${info.pyodide})`;
  element("load-time").textContent = `${(info.timings.total / 1000).toFixed(2)} s`;
  if (size > 1) show(status, "starting", `1 of ${size} ready`);
  const allReady = current.ready.then((replies) => {
    if (pool !== current) return;
    showBoots(element("boots"), replies);
    show(status, "ready", size === 1 ? "ready" : `${size} ready`);
    // Milliseconds from navigation to a ready pool: what the benchmark's warm-start rows read.
    status.dataset.readyAt ??= String(Math.round(performance.now()));
  });
  return { info, allReady };
}

async function startWorkers() {
  const sizeInput = /** @type {HTMLInputElement} */ (element("pool-size"));
  sizeInput.value = String(defaultPoolSize());
  try {
    const { info, allReady } = await startPool(defaultPoolSize());
    const settled = allReady.catch(showFailure);
    guard.loadMs = info.timings.total;
    form = new TaskForm(
      {
        select: element("task"),
        params: element("params"),
        summary: element("task-summary"),
        error: element("form-error"),
        onChange: (task) => {
          element("pool-size")
            .closest(".field")
            ?.toggleAttribute("hidden", splitRange(task) === null);
          // After the fields (and the editor, with the code saved for this task) exist.
          queueMicrotask(async () => {
            const current = /** @type {TaskForm} */ (form);
            await current.ready;
            share.show(current.task, current.currentValues());
          });
        },
        // Checked with the task's own fields before a run: an empty pool size used to start
        // "0 workers" that never became ready, with every button disabled.
        extraFields: [{ input: sizeInput, label: "Workers in the pool", applies: (task) => splitRange(task) !== null }],
      },
      info.tasks,
    );
    const controller = new RunController({
      form,
      meter,
      view: new ResultView({ result: element("result"), image: element("image"), traceback: element("traceback") }),
      workers: poolRunner,
      buttons: { main: element("run-main"), worker: element("run-worker"), cancel: element("cancel") },
      progress: element("progress"),
      progressLabel: element("progress-label"),
      lastGap: element("last-gap"),
      onFinished,
      confirmMainThread: (task, params) => guard.confirm(task, params),
    });
    controller.enable();
    // The preview follows what is typed (the editor reports its changes as input events).
    element("task-form").addEventListener("input", () => {
      const current = /** @type {TaskForm} */ (form);
      share.show(current.task, current.currentValues());
    });
    /** @type {TaskForm} */ (form).onRunShortcut = () => controller.start("worker");
    element("job-join").removeAttribute("disabled");
    sizeInput.addEventListener("change", async () => {
      // A bad size is shown at the field and the current pool stays: nothing is restarted.
      if (!checkFields([{ input: sizeInput, label: "Workers in the pool" }], element("form-error"))) return;
      const size = Number(sizeInput.value);
      if (size === pool?.size) return;
      controller.setEnabled(false);
      try {
        const { allReady } = await startPool(size);
        allReady.catch(showFailure);
      } catch (error) {
        showFailure(error);
      } finally {
        controller.enable();
      }
    });
    await settled;
  } catch (error) {
    showFailure(error);
  }
}

/** @param {unknown} error  why the pool could not start */
function showFailure(error) {
  show(element("worker-status"), "failed", `failed: ${/** @type {Error} */ (error).message}`);
}

// The pool boots in the background once the page has painted (see boot-view.js); the service
// worker registers once the workers are up (or failed), so precaching does not slow their boot.
// On a static host (no COOP/COEP) the service worker adds the isolation headers: once it
// controls the page, one reload makes the page isolated (offline/isolation-reload.js).
afterFirstPaint(() =>
  startWorkers()
    .finally(() => offline.register())
    .then(() => isolateThroughServiceWorker(showIsolationStep)),
);

/** @param {import("./offline/isolation-reload.js").IsolationStep} step */
function showIsolationStep(step) {
  const texts = {
    reload: "Reloading once: the service worker now adds the isolation headers this host does not send.",
    "gave-up": "The service worker adds the isolation headers, but the page is still not isolated after a reload.",
  };
  if (step !== "reload" && step !== "gave-up") return;
  element("capabilities").dataset.state = step;
  element("capabilities-text").textContent = texts[step];
  element("capabilities").hidden = false;
}
