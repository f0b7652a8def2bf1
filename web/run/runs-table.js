// The table of runs so far: one row per finished run, newest first, saying where it ran, how long
// it took and the longest gap between frames meanwhile.

/** @typedef {import("./run-controller.js").RunRecord} RunRecord */

export class RunsTable {
  /** @param {HTMLElement} body  the table's tbody */
  constructor(body) {
    this.body = body;
  }

  /** @param {RunRecord} record */
  add(record) {
    const row = document.createElement("tr");
    const cells = [
      record.task,
      record.where === "main" ? "main thread" : "worker",
      `${(record.durationMs / 1000).toFixed(2)} s${record.outcome === "ok" ? "" : ` (${record.outcome})`}`,
      `${record.stats.longestGap.toFixed(0)} ms`,
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.className = record.where;
    this.body.prepend(row);
  }
}
