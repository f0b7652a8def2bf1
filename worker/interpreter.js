// The dispatcher's Python (dispatcher.js's Interpreter) made of the real Pyodide: booted through
// this build's memory snapshot where possible (boot.js), tasks and the developer's own functions
// run through offload.bridge (python.js), and the console a person's code gets (console.js).
// Only worker.js makes one.

import { loadWorkerPython } from "./boot.js";
import { installConsole } from "./console.js";
import { callBridge, installImports, installUserCode, runBridge, toPlain } from "./python.js";

/** @typedef {import("./dispatcher.js").Interpreter} Interpreter */
/** @typedef {import("./python.js").Python} Python */

/** @returns {Interpreter} */
export function pyodideInterpreter() {
  /** @type {Python | null} */
  let loaded = null;
  const python = () => {
    if (!loaded) throw new Error("Python is not loaded yet");
    return loaded;
  };
  return {
    async boot() {
      const { python, timings, boot, stored } = await loadWorkerPython();
      loaded = python;
      return { timings, boot, stored };
    },
    tasks() {
      const proxy = python().bridge.tasks();
      const tasks = toPlain(proxy);
      proxy.destroy();
      return tasks;
    },
    versions() {
      const { pyodide } = python();
      return { python: pyodide.runPython("import sys; sys.version.split()[0]"), pyodide: pyodide.version };
    },
    run(task, params, onProgress, onOutput, awaits) {
      return runBridge(python(), task, params, onProgress, onOutput, awaits);
    },
    installImports(code, onNote) {
      return installImports(python(), code, onNote);
    },
    install(code) {
      return installUserCode(python(), code);
    },
    call(name, args, kwargs, onProgress, onOutput) {
      return callBridge(python(), name, args, kwargs, onProgress, onOutput);
    },
    attach({ interruptBuffer, inputBuffer, ask }) {
      if (interruptBuffer) python().pyodide.setInterruptBuffer(interruptBuffer);
      installConsole(python(), { interruptBuffer, inputBuffer, ask });
    },
    warmupPlan() {
      const warmup = python().pyodide.pyimport("offload.warmup");
      try {
        const planProxy = warmup.plan();
        const plan = toPlain(planProxy);
        planProxy.destroy();
        return { plan, of: warmup.count() }; // offload.warmup owns how many steps a warm-up has
      } finally {
        warmup.destroy();
      }
    },
  };
}
