// The data panel: a person's own file (picked, dropped, or a sample made here) summarised by
// csv_summary / jsonl_summary in a worker — the bytes moved to it, not copied — or, to feel the
// difference, on the main thread. The summary is a table with a small histogram per number column.

import { nextFrame } from "../meter/frame-meter.js";
import { runOnMainThread } from "../run/main-thread-python.js";

/** @typedef {import("../meter/frame-meter.js").FrameMeter} FrameMeter */

/**
 * How the panel runs a task in a worker (main.js passes the pool's run).
 * @typedef {(task: string, params: Record<string, unknown>,
 *            options: {onProgress: (done: number, total: number) => void}) =>
 *            {result: Promise<unknown>, cancel: () => void}} DataRunner
 */

/**
 * A column as offload.columns.Column.summary() reports it.
 * @typedef {{name: string, type: string, count: number, missing: number, min?: number,
 *            max?: number, mean?: number, histogram?: {edges: number[], counts: number[]},
 *            top?: {value: string, count: number}[], distinct?: number | null}} ColumnSummary
 */

const MiB = 1024 * 1024;

export class DataPanel {
  /**
   * @param {{file: HTMLInputElement, drop: HTMLElement, size: HTMLSelectElement,
   *          sample: HTMLButtonElement, worker: HTMLButtonElement, main: HTMLButtonElement,
   *          cancel: HTMLButtonElement, progress: HTMLProgressElement, status: HTMLElement,
   *          summary: HTMLElement}} elements
   * @param {{run: () => DataRunner, meter: FrameMeter}} services
   */
  constructor(elements, services) {
    this.elements = elements;
    this.services = services;
    /** @type {Blob | null} the chosen file (read again for each run: a run moves its bytes away) */
    this.blob = null;
    this.name = "";
    /** @type {(() => void) | null} */
    this.cancelCurrent = null;
    /** Stop was clicked during this run (see the Stop button's listener). */
    this.stopAsked = false;
    const { file, drop, sample, worker, main, cancel } = elements;
    file.addEventListener("change", () => {
      if (file.files?.[0]) this.choose(file.files[0], file.files[0].name);
    });
    drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      const dropped = event.dataTransfer?.files?.[0];
      if (dropped) this.choose(dropped, dropped.name);
    });
    sample.addEventListener("click", () => this.makeSample());
    worker.addEventListener("click", () => this.summarise("worker"));
    main.addEventListener("click", () => this.summarise("main"));
    // A Stop clicked before the worker's job exists (while the file is read) is kept for it.
    cancel.addEventListener("click", () => {
      this.stopAsked = true;
      this.cancelCurrent?.();
    });
    this.setRunning(false);
  }

  /** @param {Blob} blob @param {string} name */
  choose(blob, name) {
    this.blob = blob;
    this.name = name;
    this.elements.status.textContent = `${name}: ${(blob.size / MiB).toFixed(2)} MiB, ready.`;
    this.setRunning(false);
  }

  async makeSample() {
    const bytes = Number(this.elements.size.value) * MiB;
    this.elements.status.textContent = "Making a sample…";
    await nextFrame();
    const started = performance.now();
    const blob = new Blob([sampleCsv(bytes)], { type: "text/csv" });
    const took = performance.now() - started;
    this.choose(blob, `sample-${this.elements.size.value}MiB.csv`);
    this.elements.status.textContent += ` (made in ${took.toFixed(0)} ms)`;
  }

  /** @param {boolean} running */
  setRunning(running) {
    const { worker, main, cancel, sample } = this.elements;
    worker.disabled = running || !this.blob;
    main.disabled = running || !this.blob;
    sample.disabled = running;
    cancel.disabled = !running;
  }

  /** @param {"worker" | "main"} where */
  async summarise(where) {
    if (!this.blob) return;
    const { status, progress, summary } = this.elements;
    const task = /\.jsonl?$|\.ndjson$/i.test(this.name) ? "jsonl_summary" : "csv_summary";
    this.setRunning(true);
    this.stopAsked = false;
    progress.value = 0;
    status.textContent =
      where === "main"
        ? "Parsing on the main thread — the page is frozen until it ends."
        : "Parsing in the worker — the page stays responsive.";
    await nextFrame();
    const data = await this.blob.arrayBuffer();
    const { meter } = this.services;
    meter.beginRun(where);
    const started = performance.now();
    /** @param {number} done @param {number} total */
    const onProgress = (done, total) => {
      progress.value = total > 0 ? done / total : 0;
    };
    try {
      /** @type {any} */
      let value;
      if (where === "main") {
        value = await runOnMainThread(task, { data }, { onProgress, onStdout: () => {} });
      } else {
        const job = this.services.run()(task, { data }, { onProgress });
        this.cancelCurrent = job.cancel;
        if (this.stopAsked) job.cancel();
        value = await job.result;
      }
      const seconds = (performance.now() - started) / 1000;
      progress.value = 1;
      summary.replaceChildren(summaryTable(value));
      status.textContent =
        `${this.name}: ${value.rows.toLocaleString("en")} rows, ` +
        `${value.columns.length} columns, ${value.encoding}` +
        `${value.delimiter ? `, delimiter ${JSON.stringify(value.delimiter)}` : ""} — ` +
        `${seconds.toFixed(2)} s ${where === "main" ? "on the main thread" : "in the worker"}` +
        `${problems(value)}`;
    } catch (error) {
      const failure = /** @type {Error & {type?: string}} */ (error);
      status.textContent = failure.type ? failure.message : `${failure.name}: ${failure.message}`;
      summary.replaceChildren();
    } finally {
      this.cancelCurrent = null;
    }
    const stats = await meter.endRun();
    status.textContent += ` · longest frame gap ${stats.longestGap.toFixed(0)} ms`;
    status.dataset.gap = stats.longestGap.toFixed(1);
    this.setRunning(false);
  }
}

/** @param {any} value */
function problems(value) {
  const notes = [];
  if (value.ragged_rows?.count) {
    notes.push(`${value.ragged_rows.count} ragged rows (lines ${value.ragged_rows.first_lines.join(", ")}…) left out`);
  }
  if (value.malformed_rows?.count) notes.push(`${value.malformed_rows.count} malformed rows left out`);
  if (value.invalid_lines?.count) notes.push(`${value.invalid_lines.count} lines that are not JSON objects`);
  return notes.length ? `; ${notes.join("; ")}` : "";
}

/**
 * The summary as a table: one row per column.
 * @param {{columns: ColumnSummary[]}} value
 */
export function summaryTable(value) {
  const table = document.createElement("table");
  table.className = "summary";
  const head = table.createTHead().insertRow();
  for (const title of ["Column", "Type", "Count", "Missing", "Min", "Max", "Mean", "Distribution"]) {
    const cell = document.createElement("th");
    cell.scope = "col";
    cell.textContent = title;
    head.append(cell);
  }
  const body = table.createTBody();
  for (const column of value.columns) {
    const row = body.insertRow();
    const number = (/** @type {number | undefined} */ x) =>
      x === undefined ? "" : x.toLocaleString("en", { maximumFractionDigits: 4 });
    for (const text of [
      column.name,
      column.type,
      number(column.count),
      number(column.missing),
      number(column.min),
      number(column.max),
      number(column.mean),
    ]) {
      row.insertCell().textContent = text;
    }
    const last = row.insertCell();
    if (column.histogram) last.append(histogram(column.histogram));
    else if (column.top) {
      last.textContent = column.top.map((t) => `${t.value} (${t.count.toLocaleString("en")})`).join(", ");
    }
  }
  return table;
}

/**
 * A small bar chart of a histogram, as an SVG with a title per bar.
 * @param {{edges: number[], counts: number[]}} histogram
 */
function histogram({ edges, counts }) {
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  const width = 120;
  const height = 28;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `histogram of ${counts.length} bins`);
  const most = Math.max(...counts, 1);
  const barWidth = width / Math.max(counts.length, 1);
  counts.forEach((count, i) => {
    const bar = document.createElementNS(svgNS, "rect");
    const barHeight = Math.max((count / most) * height, count ? 1 : 0);
    bar.setAttribute("x", String(i * barWidth));
    bar.setAttribute("y", String(height - barHeight));
    bar.setAttribute("width", String(Math.max(barWidth - 1, 1)));
    bar.setAttribute("height", String(barHeight));
    const title = document.createElementNS(svgNS, "title");
    title.textContent = `${edges[i].toPrecision(4)} – ${edges[i + 1].toPrecision(4)}: ${count}`;
    bar.append(title);
    svg.append(bar);
  });
  return svg;
}

/**
 * A realistic CSV of about `bytes` bytes, made here from a seeded generator: ids, names (some
 * with commas or quotes), cities with accents, amounts with gaps, counts, dates.
 * @param {number} bytes
 * @returns {string}
 */
export function sampleCsv(bytes) {
  let seed = 42;
  const random = () => {
    // mulberry32: small, seeded, good enough for sample data
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const names = ["Ada", "Grace", '"Alan ""the"" Turing"', '"du Châtelet, Émilie"', "李白", "Zoë"];
  const cities = ["Oslo", "Köln", "São Paulo", "Zürich", "", "Kyoto"];
  const parts = ["id,name,city,amount,visits,joined\n"];
  let size = parts[0].length;
  for (let id = 1; size < bytes; id++) {
    const amount = random() < 0.04 ? "" : (50 + random() * 150).toFixed(2);
    const month = String(1 + Math.floor(random() * 12)).padStart(2, "0");
    const day = String(1 + Math.floor(random() * 28)).padStart(2, "0");
    const line =
      `${id},${names[Math.floor(random() * names.length)]},` +
      `${cities[Math.floor(random() * cities.length)]},${amount},` +
      `${Math.floor(random() * 40)},2025-${month}-${day}\n`;
    parts.push(line);
    size += line.length;
  }
  return parts.join("");
}
