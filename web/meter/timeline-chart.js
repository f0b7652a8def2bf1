// The frame-gap timeline: every frame's gap over the last minute, coloured by where the run at that
// moment executed, so a main-thread run and a worker run sit side by side on one chart. Each gap
// is drawn as a plateau over the time it lasted: a 2-second freeze is a 2-second-wide block, not
// a thin spike, because its length is the point.
// Drawn with uPlot (vendored from npm at build time); redrawn a few times a second, not every frame,
// so the chart itself never becomes the main thread's burden.

/** @typedef {import("./frame-meter.js").Frame} Frame */

/** @typedef {typeof import("uplot")} UPlot */

const REDRAW_MS = 250;
const SERIES = /** @type {const} */ ([
  { where: "idle", label: "idle", stroke: "#94a3b8", fill: "rgba(148, 163, 184, 0.15)" },
  { where: "main", label: "Python on the main thread", stroke: "#dc2626", fill: "rgba(220, 38, 38, 0.25)" },
  { where: "worker", label: "Python in a worker", stroke: "#16a34a", fill: "rgba(22, 163, 74, 0.2)" },
]);

/**
 * Draw the chart in `container` once uPlot has loaded, or say there why it could not: the chart is
 * optional, never fatal. uPlot is imported here, not at the top of the module, because its module
 * can throw as it loads (under the C locale it calls `new Intl.NumberFormat("C")`, a RangeError),
 * and a failed static or top-level import would stop web/main.js, and the whole page, with it.
 * @param {HTMLElement} container
 * @param {() => Frame[]} frames  the meter's history, read at each redraw
 * @returns {Promise<TimelineChart | null>}  null when the chart is unavailable
 */
export async function showTimeline(container, frames) {
  try {
    /** @type {UPlot} */
    const uPlot = (await import(new URL("../../vendor/uplot.mjs", import.meta.url).href)).default;
    return new TimelineChart(uPlot, container, frames);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const note = document.createElement("p");
    note.className = "chart-unavailable";
    note.textContent = `chart unavailable: ${reason}`;
    container.replaceChildren(note);
    return null;
  }
}

export class TimelineChart {
  /**
   * @param {UPlot} uPlot  the loaded chart library
   * @param {HTMLElement} container
   * @param {() => Frame[]} frames  the meter's history, read at each redraw
   */
  constructor(uPlot, container, frames) {
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
        // Whole seconds only: with uPlot's default steps a short history got ticks 0.5 s apart,
        // which rounded to the same label twice.
        {
          label: "seconds ago",
          incrs: [1, 2, 5, 10, 15, 20, 30, 60],
          values: (_u, ticks) => ticks.map((t) => String(Math.round(-t))),
        },
        { label: "gap (ms, log scale)", size: 60 },
      ],
      series: [
        {},
        ...SERIES.map(({ label, stroke, fill }) => ({
          label,
          stroke,
          fill,
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          value: (/** @type {unknown} */ _u, /** @type {number | null} */ v) =>
            v == null ? "—" : `${v.toFixed(0)} ms`,
        })),
      ],
      legend: { live: false },
    };
  }

  redraw() {
    const frames = this.frames();
    const now = performance.now();
    // Two points per frame, at the start and the end of its gap, both at the gap's height.
    /** @type {number[]} */
    const xs = [];
    /** @type {(number | null)[][]} */
    const columns = SERIES.map(() => []);
    for (const frame of frames) {
      xs.push((frame.time - frame.gap - now) / 1000, (frame.time - now) / 1000);
      SERIES.forEach(({ where }, index) => {
        const value = frame.where === where ? frame.gap : null;
        columns[index].push(value, value);
      });
    }
    this.plot.setData([xs, ...columns]);
  }
}
