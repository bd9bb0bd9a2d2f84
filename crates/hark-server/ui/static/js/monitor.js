// The monitor page's response-time graph: reads the series the server
// embedded as `<script type="application/json" id="monitor-series">`
// (data, never executed) and draws min, average and max with uPlot.
// seriesToData is pure and tested under node.

/**
 * uPlot's columns (seconds; min, avg, max in milliseconds) from the
 * server's points `[start_secs, min_s, avg_s, max_s]`.
 * @param {{points: [number, number, number, number][]}} series
 * @returns {[number[], number[], number[], number[]]}
 */
export function seriesToData(series) {
  const xs = [];
  const mins = [];
  const avgs = [];
  const maxs = [];
  for (const p of series.points || []) {
    if (!Array.isArray(p) || p.length < 4) continue;
    xs.push(p[0]);
    mins.push(p[1] * 1000);
    avgs.push(p[2] * 1000);
    maxs.push(p[3] * 1000);
  }
  return [xs, mins, avgs, maxs];
}

/** Draws the chart into `box` from the JSON element it names. */
async function draw(box) {
  const source = document.getElementById(box.dataset.series || '');
  if (!source) return;
  let series;
  try {
    series = JSON.parse(source.textContent || '{}');
  } catch {
    return;
  }
  const data = seriesToData(series);
  if (data[0].length === 0) return;
  const { default: uPlot } = await import('../vendor/uPlot.esm.js');
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim() || '#888';
  box.replaceChildren();
  const width = () => Math.max(300, box.clientWidth);
  const plot = new uPlot(
    {
      width: width(),
      height: 220,
      scales: { x: { time: true, range: [series.from, series.to] } },
      axes: [
        { stroke: color('--muted'), grid: { stroke: color('--border') } },
        { stroke: color('--muted'), grid: { stroke: color('--border') }, values: (_, ticks) => ticks.map((t) => `${t} ms`) },
      ],
      series: [
        {},
        { label: 'min', stroke: color('--ok'), width: 1 },
        { label: 'avg', stroke: color('--accent'), width: 2 },
        { label: 'max', stroke: color('--unknown'), width: 1 },
      ],
    },
    data,
    box,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(box);
}

if (typeof document !== 'undefined') {
  for (const box of document.querySelectorAll('[data-series]')) draw(/** @type {HTMLElement} */ (box));
}
