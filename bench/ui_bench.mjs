// Measures the web UI in headless Chromium, driven over WebDriver
// (chromedriver) with nothing but node's fetch:
//
// - the first page: bytes transferred (compressed) for /search and
//   everything it loads, from the Resource Timing API;
// - search: from the Enter key to 100 hits and the histogram painted
//   (the page clears `aria-busy` when both are rendered; two animation
//   frames later they are painted), for each query, median over runs;
// - live tail: long tasks (over 50 ms) while events arrive, from a
//   PerformanceObserver, with the rows drawn per second.
//
//   node bench/ui_bench.mjs --driver http://127.0.0.1:9515 --url http://127.0.0.1:8514 \
//        --user bench --password secret --runs 15 [--tail-seconds 20] [--queries q1,q2,...]
//
// Prints one JSON object on stdout.

import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    driver: { type: 'string' },
    url: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    runs: { type: 'string', default: '15' },
    'tail-seconds': { type: 'string', default: '0' },
    queries: { type: 'string', default: '*,needleecho,host:host-042,host:host-042 AND "failed password",severity_code:[0 TO 3]' },
    since: { type: 'string', default: '24h' },
  },
});

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

async function wd(method, path, body) {
  const res = await fetch(`${opt.driver}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
  return json.value;
}

const session = await wd('POST', '/session', {
  capabilities: {
    alwaysMatch: {
      browserName: 'chrome',
      'goog:chromeOptions': {
        binary: '/usr/bin/chromium',
        args: [
          '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--window-size=1280,720',
        ],
      },
    },
  },
});
const sid = session.sessionId;
const s = (method, path, body) => wd(method, `/session/${sid}${path}`, body);
const run = (script, args = []) => s('POST', '/execute/sync', { script, args });
const find = async (css) => (await s('POST', '/element', { using: 'css selector', value: css }))[ELEMENT];
const type = async (css, text) => s('POST', `/element/${await find(css)}/value`, { text });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(script, args = [], timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await run(script, args);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${script}`);
    await sleep(20);
  }
}

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};

try {
  // Sign in.
  await s('POST', '/url', { url: `${opt.url}/login` });
  await type('input[name=username]', opt.user);
  await type('input[name=password]', opt.password + '\uE007');
  await waitFor('return location.pathname === "/search" && document.readyState === "complete"');

  // First page, cold cache: load /search again with the cache disabled by a fresh URL.
  await s('POST', '/url', { url: `${opt.url}/search?since=${opt.since}&q=*` });
  await waitFor('return document.readyState === "complete" && !document.getElementById("search-app").hasAttribute("aria-busy") && document.querySelectorAll("[data-testid=hit]").length > 0');
  await sleep(500);
  const firstPage = await run(`
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const sum = (k) => res.reduce((n, r) => n + (r[k] || 0), 0);
    return {
      document_transfer: nav.transferSize, document_decoded: nav.decodedBodySize,
      resources: res.length, resources_transfer: sum('transferSize'), resources_decoded: sum('decodedBodySize'),
      total_transfer: nav.transferSize + sum('transferSize'),
      dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
    };`);

  // Search latency: Enter → aria-busy cleared → two frames.
  const queries = opt.queries.split(',').map((q) => q.trim()).filter(Boolean);
  const runs = Number(opt.runs);
  const perQuery = {};
  for (const q of queries) {
    const times = [];
    let hits = 0;
    let total = null;
    for (let i = 0; i < runs; i++) {
      await run(`
        const root = document.getElementById('search-app');
        const input = root.querySelector('input[name=q]');
        input.value = arguments[0];
        input.dispatchEvent(new Event('input', { bubbles: true }));
        window.__bench = { t0: null, t1: null };
        const b = window.__bench;
        input.addEventListener('keydown', (e) => { if (e.key === 'Enter') b.t0 = performance.now(); }, { capture: true, once: true });
        const mo = new MutationObserver(() => {
          if (b.t0 !== null && !root.hasAttribute('aria-busy')) {
            mo.disconnect();
            requestAnimationFrame(() => requestAnimationFrame(() => { b.t1 = performance.now(); }));
          }
        });
        mo.observe(root, { attributes: true, attributeFilter: ['aria-busy'] });
        input.focus();`, [q]);
      await s('POST', `/element/${await find('input[name=q]')}/value`, { text: '\uE007' });
      const r = await waitFor(`
        const b = window.__bench;
        if (b.t1 === null) return null;
        const root = document.getElementById('search-app');
        return { ms: b.t1 - b.t0, hits: root.querySelectorAll('[data-testid=hit]').length,
                 total: Number(root.querySelector('[data-total]')?.dataset.total ?? NaN),
                 histogram: Boolean(root.querySelector('[data-testid=histogram] canvas, [data-testid=histogram] svg')) };`);
      times.push(r.ms);
      hits = r.hits;
      total = r.total;
    }
    perQuery[q] = { median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), rendered_hits: hits, total };
  }

  // Live tail: long tasks while events arrive (the caller sends them).
  let tail = null;
  const tailSeconds = Number(opt['tail-seconds']);
  if (tailSeconds > 0) {
    await s('POST', '/url', { url: `${opt.url}/tail` });
    await waitFor('return document.readyState === "complete"');
    await run(`
      window.__long = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
        .observe({ type: 'longtask', buffered: false });`);
    const rows0 = await run('return document.querySelectorAll("[data-testid=tail-row]").length');
    process.stderr.write(`tail: observing for ${tailSeconds} s\n`);
    console.error('READY-FOR-TAIL');
    await sleep(tailSeconds * 1000);
    tail = await run(`return { long_tasks: window.__long.length, longest_ms: Math.max(0, ...window.__long),
      rows_in_dom: document.querySelectorAll('[data-testid=tail-row]').length }`);
    tail.rows_in_dom_at_start = rows0;
  }

  console.log(JSON.stringify({ first_page: firstPage, search: perQuery, runs, tail }, null, 1));
} finally {
  await wd('DELETE', `/session/${sid}`).catch(() => {});
}
