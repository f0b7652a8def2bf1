// The frame-gap timeline: every frame's gap over the last minute, coloured by where the run at that
// moment executed, so a main-thread run and a worker run sit side by side on one chart.
// Drawn with uPlot (vendored from npm at build time); redrawn a few times a second, not every frame,
// so the chart itself never becomes the main thread's burden.

/** @typedef {import("./frame-meter.js").Frame} Frame */


/** @type {typeof import("uplot")} */
const uPlot = (await import(new URL("./vendor/uplot.mjs", import.meta.url).href)).default;

const REDRAW_MS = 250;
const SERIES = /** @type {const} */ ([
  { where: "idle", label: "idle", stroke: "#94a3b8" },
  { where: "main", label: "main-thread run", stroke: "#dc2626" },
  { where: "worker", label: "worker run", stroke: "#16a34a" },
]);

export class TimelineChart {
  /**
   * @param {HTMLElement} container
   * @param {() => Frame[]} frames  the meter's history, read at each redraw
   */
  constructor(container, frames) {
    this.container = container;
    this.frames = frames;
    this.plot = new uPlot(this.options(), [[], [], [], []], container);
    new ResizeObserver(() => this.plot.setSize(this.size())).observe(container);
    setInterval(() => this.redraw(), REDRAW_MS);
  }

  size() {
    return { width: Math.max(this.container.clientWidth, 200), height: 220 };
  }

  /** @returns {import("uplot").Options} */
  options() {
    return {
      ...this.size(),
      title: "Time between frames",
      scales: { x: { time: false }, y: { distr: 3, range: (_u, _min, max) => [8, Math.max(max, 100)] } },
      axes: [
        { label: "seconds ago", values: (_u, ticks) => ticks.map((t) => (-t).toFixed(0)) },
        { label: "gap (ms, log scale)", size: 60 },
      ],
      series: [
        {},
        ...SERIES.map(({ label, stroke }) => ({
          label,
          stroke,
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          value: (/** @type {unknown} */ _u, /** @type {number | null} */ v) => (v == null ? "—" : `${v.toFixed(0)} ms`),
        })),
      ],
      legend: { live: false },
    };
  }

  redraw() {
    const frames = this.frames();
    const now = performance.now();
    const xs = frames.map((frame) => (frame.time - now) / 1000);
    const columns = SERIES.map(({ where }) => frames.map((frame) => (frame.where === where ? frame.gap : null)));
    this.plot.setData([xs, ...columns]);
  }
}
