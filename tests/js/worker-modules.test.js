// The shape of worker/: its modules import one another without a cycle, and every module the page
// imports loads in Node, with no browser global touched at import time (the seam's premise).

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

const folder = new URL("../../worker/", import.meta.url);
const modules = readdirSync(folder).filter((name) => name.endsWith(".js"));

/**
 * The worker/ modules `name` imports at run time (static `import ... from "./x.js"` and
 * re-exports; JSDoc `import("./x.js")` types are not imports).
 * @param {string} name
 * @returns {string[]}
 */
function importsOf(name) {
  const source = readFileSync(new URL(name, folder), "utf8");
  return [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+"\.\/([\w-]+\.js)";/gms)].map((match) => match[1]);
}

test("worker/ modules import one another without a cycle", () => {
  /** @type {Map<string, "visiting" | "done">} */
  const state = new Map();
  /** @param {string} name @param {string[]} path */
  const visit = (name, path) => {
    if (state.get(name) === "done") return;
    assert.notEqual(state.get(name), "visiting", `import cycle: ${[...path, name].join(" -> ")}`);
    state.set(name, "visiting");
    for (const imported of importsOf(name)) visit(imported, [...path, name]);
    state.set(name, "done");
  };
  for (const name of modules) visit(name, []);
  assert.deepEqual(importsOf("pool.js").sort(), ["errors.js", "python-worker.js"]);
  assert.ok(!importsOf("python-worker.js").includes("pool.js"));
  // The entry binds `self` and Pyodide, nothing more; the dispatcher knows neither.
  assert.deepEqual(importsOf("worker.js").sort(), ["dispatcher.js", "interpreter.js"]);
  assert.deepEqual(importsOf("dispatcher.js").sort(), ["cancel.js", "protocol.js"]);
});

test("only cancel.js names the Python exception a cancel raises", () => {
  const naming = modules.filter((name) => readFileSync(new URL(name, folder), "utf8").includes('"KeyboardInterrupt"'));
  assert.deepEqual(naming, ["cancel.js"]);
});

test("every module but the worker script itself loads in Node", async () => {
  for (const name of modules.filter((module) => module !== "worker.js")) {
    await import(new URL(name, folder).href);
  }
  const client = await import("../../worker/client.js");
  assert.equal(typeof client.PythonWorker, "function");
  assert.equal(typeof client.WorkerPool, "function");
  assert.equal(typeof client.defaultPoolSize(), "number");
});
