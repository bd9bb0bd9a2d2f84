// The search page's histogram: counts per time bucket drawn with uPlot as
// bars over the searched range; dragging across it selects a new range.
// The data functions are pure; uPlot is loaded only when a chart is made.

import { toRfc3339 } from './format.js';
import { absoluteRange } from './timerange.js';

/** Narrowest range a drag may select. */
export const MIN_SELECTION_MS = 1000;

/**
 * uPlot's data (seconds on x, counts on y) from the API's buckets.
 * @param {{start: string, count: number}[]} buckets
 * @param {(text: string) => number} parse RFC 3339 to milliseconds
 * @returns {[number[], number[]]}
 */
export function bucketsToData(buckets, parse) {
  const xs = [];
  const ys = [];
  for (const b of buckets) {
    const ms = parse(b.start);
    if (Number.isNaN(ms)) continue;
    xs.push(ms / 1000);
    ys.push(Number(b.count) || 0);
  }
  return [xs, ys];
}

/**
 * The width of one bucket in milliseconds: the smallest step between
 * consecutive starts, or null with fewer than two buckets.
 * @param {number[]} xsSeconds
 * @returns {number|null}
 */
export function bucketWidthMs(xsSeconds) {
  let best = Infinity;
  for (let i = 1; i < xsSeconds.length; i += 1) {
    const d = xsSeconds[i] - xsSeconds[i - 1];
    if (d > 0 && d < best) best = d;
  }
  return Number.isFinite(best) ? Math.round(best * 1000) : null;
}

/**
 * A bucket width for people: `30s`, `5m`, `1h`, `1d`, or `250ms`.
 * @param {number} ms
 * @returns {string}
 */
export function describeWidth(ms) {
  for (const [unit, size] of /** @type {[string, number][]} */ ([
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
  ])) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}

/**
 * The time range a drag across the chart selects (x values in seconds), or
 * null when the selection is narrower than MIN_SELECTION_MS.
 * @param {number} aSeconds
 * @param {number} bSeconds
 * @returns {{from: string, to: string}|null}
 */
export function selectionToRange(aSeconds, bSeconds) {
  const a = Math.round(aSeconds * 1000);
  const b = Math.round(bSeconds * 1000);
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(b - a) < MIN_SELECTION_MS) return null;
  return /** @type {{from: string, to: string}} */ (absoluteRange(a, b));
}

/**
 * What the page must say about the histogram: its bucket width, and where
 * it does not show everything (no buckets though events matched, or buckets
 * covering only part of the range).
 * @param {number[]} xsSeconds bucket starts
 * @param {number[]} counts
 * @param {number} total events matching
 * @returns {string[]}
 */
export function histogramNotes(xsSeconds, counts, total) {
  const notes = [];
  const width = bucketWidthMs(xsSeconds);
  if (width !== null) notes.push(`each bar is ${describeWidth(width)}`);
  const sum = counts.reduce((s, c) => s + c, 0);
  if (xsSeconds.length === 0 && total > 0) {
    notes.push('the server sent no histogram for this result');
  } else if (sum < total) {
    notes.push(`the bars hold ${sum} of ${total} matching events`);
  }
  return notes;
}

/**
 * Adds uPlot's stylesheet to the document once.
 */
function loadUplotCss() {
  const href = new URL('../vendor/uPlot.min.css', import.meta.url).href;
  if (document.querySelector(`link[data-uplot-css]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.dataset.uplotCss = '';
  document.head.append(link);
}

/**
 * @typedef {object} Histogram
 * @property {(buckets: {start: string, count: number}[], fromMs: number, toMs: number, total: number) => void} update
 * @property {() => void} destroy
 */

/**
 * Makes a histogram in `container` (which gets `data-testid="histogram"`).
 * `onSelect` receives the range a drag selects.
 * @param {HTMLElement} container
 * @param {{parse: (text: string) => number, onSelect: (range: {from: string, to: string}) => void, notes: HTMLElement}} opts
 * @returns {Histogram}
 */
export function createHistogram(container, opts) {
  container.dataset.testid = 'histogram';
  const chartEl = document.createElement('div');
  chartEl.className = 'histogram-chart';
  container.append(chartEl);
  /** @type {any} */
  let plot = null;
  /** @type {any} */
  let UPlot = null;
  let failed = false;
  let range = [0, 1];
  /** @type {[number[], number[]]} */
  let data = [[], []];

  const css = getComputedStyle(container);
  const color = (name, fallback) => css.getPropertyValue(name).trim() || fallback;

  const width = () => Math.max(200, chartEl.clientWidth || container.clientWidth || 600);

  const make = () => {
    const accent = color('--accent', '#2f6fde');
    plot = new UPlot(
      {
        width: width(),
        height: 120,
        padding: [8, 8, 0, 0],
        legend: { show: true, live: true },
        cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
        select: { show: true, left: 0, top: 0, width: 0, height: 0 },
        scales: { x: { time: true, range: () => range }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [
          { stroke: color('--muted', '#666'), grid: { stroke: color('--border', '#ddd'), width: 1 } },
          {
            stroke: color('--muted', '#666'),
            grid: { stroke: color('--border', '#ddd'), width: 1 },
            size: 50,
            values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')),
          },
        ],
        series: [
          { label: 'time' },
          {
            label: 'events',
            stroke: accent,
            fill: accent,
            alpha: 0.75,
            width: 1,
            paths: UPlot.paths.bars({ size: [0.9, Infinity], align: 1 }),
            points: { show: false },
          },
        ],
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width < 2) return;
              const a = u.posToVal(u.select.left, 'x');
              const b = u.posToVal(u.select.left + u.select.width, 'x');
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              const r = selectionToRange(a, b);
              if (r) opts.onSelect(r);
            },
          ],
        },
      },
      data,
      chartEl,
    );
  };

  const ready = import(new URL('../vendor/uPlot.esm.js', import.meta.url).href)
    .then((m) => {
      UPlot = m.default;
      loadUplotCss();
    })
    .catch((e) => {
      failed = true;
      chartEl.textContent = `The chart library could not be loaded (${e instanceof Error ? e.message : e}); counts are still listed below.`;
    });

  const resize = new ResizeObserver(() => {
    if (plot) plot.setSize({ width: width(), height: 120 });
  });
  resize.observe(container);

  return {
    update(buckets, fromMs, toMs, total) {
      data = bucketsToData(buckets, opts.parse);
      range = [fromMs / 1000, toMs / 1000];
      const notes = histogramNotes(data[0], data[1], total);
      opts.notes.textContent = notes.length ? `Histogram: ${notes.join('; ')}. Drag across it to zoom.` : '';
      ready.then(() => {
        if (failed) {
          chartEl.textContent = `Chart unavailable. ${data[0]
            .map((x, i) => `${toRfc3339(x * 1000)}: ${data[1][i]}`)
            .slice(0, 50)
            .join(', ')}`;
          return;
        }
        if (!plot) make();
        else plot.setData(data);
      });
    },
    destroy() {
      resize.disconnect();
      if (plot) plot.destroy();
    },
  };
}
