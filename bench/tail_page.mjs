// The live tail page alone in headless Chromium, without a server or a
// release build: serves crates/hark-server/ui/static and a page that mounts
// tail.js with EventSource replaced by a feed of generated events (RATE per
// second, in bursts every 10 ms), then reports, after the page has reached
// its 5 000 rows, what a PerformanceObserver saw for SECONDS:
//
// - long_tasks, longest_ms: tasks over 50 ms;
// - frames, frame_script_ms (total, max): animation-frame callbacks, the
//   tail's drawing and the layout it forces when following the newest row;
// - rows_in_dom, at_bottom.
//
// It measures the page's own work only: the real bench (bench/ui.sh) adds
// the server, `hark send` and the SSE parsing competing for the same CPUs.
//
//   chromedriver --port=9515 &
//   node bench/tail_page.mjs --driver http://127.0.0.1:9515 [--rate 2000] [--seconds 15] [--port 25170]
//
// Prints one JSON object on stdout.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    driver: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '15' },
    port: { type: 'string', default: '25170' },
  },
});

const staticDir = fileURLToPath(new URL('../crates/hark-server/ui/static/', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>tail page bench</title>
<link rel="stylesheet" href="/static/css/hark.css">
<script>
window.__long = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.duration > 50) window.__long.push(e.duration); })
  .observe({ type: 'longtask' });
window.__frames = { n: 0, total: 0, max: 0 };
const raf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) => raf((t) => {
  const s = performance.now();
  cb(t);
  const d = performance.now() - s;
  const f = window.__frames;
  f.n += 1; f.total += d; f.max = Math.max(f.max, d);
});
// Stands in for the server's Server-Sent Events.
class Feed {
  constructor() { Feed.last = this; setTimeout(() => this.onopen && this.onopen(), 0); }
  close() { clearInterval(this.timer); }
}
window.EventSource = Feed;
let n = 0;
function event() {
  n += 1;
  const now = new Date().toISOString();
  return JSON.stringify({
    timestamp: now, received_at: now, host: 'host-' + String(n % 50).padStart(3, '0'), app: 'sshd',
    input: 'bench', severity_code: n % 8,
    message: 'event ' + n + ' Failed password for invalid user admin from 192.0.2.' + (n % 250) + ' port ' + (1024 + n % 60000) + ' ssh2 ' + 'x'.repeat(120),
  });
}
window.__feed = (rate) => {
  Feed.last.timer = setInterval(() => {
    for (let i = 0; i < rate / 100; i += 1) Feed.last.onmessage({ data: event() });
  }, 10);
};
</script>
</head><body><main id="tail-app"></main>
<script type="module" src="/static/js/tail.js"></script>
</body></html>`;

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    return;
  }
  const rel = normalize(path.replace(/^\/static\//, ''));
  if (!path.startsWith('/static/') || rel.startsWith('..')) {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(join(staticDir, rel));
    res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(Number(opt.port), '127.0.0.1', resolve));

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const session = await wd('POST', '/session', {
  capabilities: {
    alwaysMatch: {
      browserName: 'chrome',
      'goog:chromeOptions': {
        binary: '/usr/bin/chromium',
        args: [
          '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--window-size=1280,720',
        ],
      },
    },
  },
});
const sid = session.sessionId;
const run = (script) => wd('POST', `/session/${sid}/execute/sync`, { script, args: [] });
try {
  await wd('POST', `/session/${sid}/url`, { url: `http://127.0.0.1:${opt.port}/` });
  await sleep(1000);
  const rate = Number(opt.rate);
  await run(`window.__feed(${rate}); return 1`);
  // Until the page holds its 5 000 rows and trims as it adds.
  await sleep(Math.ceil((5000 / rate) * 1000) + 1500);
  await run('window.__long.length = 0; window.__frames = { n: 0, total: 0, max: 0 }; return 1');
  await sleep(Number(opt.seconds) * 1000);
  const out = await run(`const l = document.querySelector('.tail-list');
    const f = window.__frames;
    return { rate: ${rate}, seconds: ${Number(opt.seconds)}, long_tasks: window.__long.length,
      longest_ms: Math.round(Math.max(0, ...window.__long)), frames: f.n,
      frame_script_ms: { total: Math.round(f.total), max: Math.round(f.max) },
      rows_in_dom: document.querySelectorAll('[data-testid=tail-row]').length,
      at_bottom: l.scrollTop + l.clientHeight >= l.scrollHeight - 30 }`);
  out.load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(JSON.stringify(out));
} finally {
  await wd('DELETE', `/session/${sid}`);
  server.close();
}
