// Generated from py/offload/schema.py by `python -m support.codegen` — do not edit.
// How the worker describes a task and its parameters to the page (the `tasks` of its `ready`
// reply), which the page builds its form from.
// `python3 build.py build` regenerates it; tests/server/test_codegen.py checks it.

/**
 * A task the worker can run, with its parameters and a complete, valid set of values.
 * @typedef {object} TaskSchema
 * @property {string} name
 * @property {string} summary
 * @property {"object" | "bytes"} returns
 * @property {string} label
 * @property {string} help
 * @property {string[]} work
 * @property {boolean} [awaits]
 * @property {ParamSchema[]} params
 * @property {Record<string, unknown>} defaults
 */

/**
 * One declared parameter of a task.
 * @typedef {object} ParamSchema
 * @property {string} name
 * @property {"integer" | "number" | "string" | "range" | "bytes"} kind
 * @property {string} description
 * @property {unknown} default
 * @property {boolean} required
 * @property {number} [minimum]
 * @property {number} [maximum]
 * @property {number} [max_length]
 * @property {string} [language]
 * @property {string} [bound]
 * @property {number} [max_bytes]
 */

export {};
