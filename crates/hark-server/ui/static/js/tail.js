// The live tail page: builds everything inside `<main id="tail-app">`,
// follows `/api/v1/tail` with EventSource, and keeps the newest 5 000
// events in a ring buffer. Once per animation frame the arrivals join the
// ring and the list (windowed by virtual.js) puts only the rows in view into
// the DOM, so a frame lays out a screenful of rows whatever the arrival rate.
// TailBuffer and Deduper are pure and tested under node.

import { tailUrl } from './api.js';
import {
  ensureStylesheet,
  formatCount,
  formatTime,
  markTerms,
  oneLine,
  parseTerms,
  severityClass,
  severityLabel,
} from './format.js';
import { RingBuffer, WindowedRows, endScrollTop } from './virtual.js';

/** Rows kept on the page. */
export const MAX_ROWS = 5000;
/** Stored events asked for when (re)connecting. */
export const BACKLOG = 200;
/** Characters of a message shown in a row. */
const MESSAGE_CHARS = 2000;
/** Height of a row in CSS pixels (`.tail-row` in search.css). */
const ROW_PX = 22;
/**
 * Rows rendered above the view while following: the whole screen changes
 * every frame at high rates, so each row more is text laid out for nothing.
 */
const FOLLOW_OVERSCAN = 2;

/**
 * What one animation frame changed in the page's rows.
 * @typedef {object} Frame
 * @property {any[]} add    events added at the end, oldest first
 * @property {number} remove rows that left at the top to make room
 */

/**
 * The page's rows (the newest `cap` events, in a ring buffer), the events
 * waiting to join them, and the counts the page shows: how many came while
 * paused, how many rows were dropped to stay within the cap.
 */
export class TailBuffer {
  /** @param {number} [cap] most rows on the page (and events held while paused) */
  constructor(cap = MAX_ROWS) {
    /** Most rows on the page. */
    this.cap = cap;
    /** @type {any[]} events not yet on the page, oldest first; at most `cap` are kept */
    this.queue = [];
    /** @type {RingBuffer<any>} the page's rows, oldest first */
    this.rows = new RingBuffer(cap);
    /** Whether drawing is paused. */
    this.paused = false;
    /** Events that arrived since the last pause. */
    this.newWhilePaused = 0;
    /** Events dropped (from the page or before reaching it) to respect the cap. */
    this.dropped = 0;
  }

  /**
   * Takes an arriving event.
   * @param {any} ev
   */
  push(ev) {
    this.queue.push(ev);
    if (this.paused) this.newWhilePaused += 1;
    // Trim in bulk so that a long pause costs amortised O(1) per event.
    if (this.queue.length >= this.cap * 2) this.trimQueue();
  }

  /** Keeps only the newest `cap` waiting events, counting the rest dropped. */
  trimQueue() {
    const extra = this.queue.length - this.cap;
    if (extra > 0) {
      this.queue.splice(0, extra);
      this.dropped += extra;
    }
  }

  /** Events waiting (at most `cap` will be drawn). */
  get waiting() {
    return Math.min(this.queue.length, this.cap);
  }

  /** Stops drawing; arrivals are kept and counted. */
  pause() {
    if (!this.paused) {
      this.paused = true;
      this.newWhilePaused = 0;
    }
  }

  /** Draws again from the next frame, everything kept meanwhile included. */
  resume() {
    this.paused = false;
    this.newWhilePaused = 0;
  }

  /** Rows on the page. */
  get shown() {
    return this.rows.length;
  }

  /**
   * Moves the oldest `max` waiting events onto the page (all of them if
   * not given), the oldest rows leaving beyond the cap; null while paused
   * or when nothing waits.
   * @param {number} [max] most events to add
   * @returns {Frame|null}
   */
  takeFrame(max = Infinity) {
    if (this.paused || this.queue.length === 0) return null;
    this.trimQueue();
    const add = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
    this.queue = add === this.queue ? [] : this.queue.slice(add.length);
    let remove = 0;
    for (const ev of add) remove += this.rows.push(ev);
    this.dropped += remove;
    return { add, remove };
  }

  /** Forgets the page's rows (a new query). */
  clear() {
    this.queue = [];
    this.rows.clear();
    this.dropped = 0;
    this.newWhilePaused = 0;
  }
}

/**
 * An identity of an event for skipping the ones a reconnection's backlog
 * sends again.
 * @param {Record<string, any>} ev
 * @returns {string}
 */
export function tailIdentity(ev) {
  const m = String(ev.message ?? '');
  return JSON.stringify([ev.timestamp, ev.received_at, ev.host, ev.app, ev.input, m.length, m.slice(0, 200)]);
}

/** Remembers the identities of the latest events, up to a size. */
export class Deduper {
  /** @param {number} size */
  constructor(size) {
    this.size = size;
    /** @type {Set<string>} */
    this.seen = new Set();
  }

  /**
   * Records an event; false when it was seen already.
   * @param {Record<string, any>} ev
   * @returns {boolean}
   */
  add(ev) {
    const id = tailIdentity(ev);
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.size) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }
}

/**
 * The delay before reconnection attempt `n` (1, 2, 4 … 30 seconds).
 * @param {number} attempt from 1
 * @returns {number} milliseconds
 */
export function backoffMs(attempt) {
  return Math.min(30000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Reads one SSE `data:` payload: an event, a lag notice, or null if invalid.
 * @param {string} data
 * @returns {{kind: 'event', event: any} | {kind: 'lagged', count: number} | null}
 */
export function parseTailMessage(data) {
  try {
    const v = JSON.parse(data);
    if (v && typeof v === 'object' && Number.isFinite(v.lagged) && !('timestamp' in v)) {
      return { kind: 'lagged', count: Number(v.lagged) };
    }
    if (v && typeof v === 'object' && typeof v.timestamp === 'string') return { kind: 'event', event: v };
    return null;
  } catch {
    return null;
  }
}

/**
 * Makes an element with a class and text.
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Fills an element with text, matches of the terms wrapped in `<mark>`.
 * @param {HTMLElement} target
 * @param {string} text
 * @param {string[]} terms
 */
function fillMarked(target, text, terms) {
  if (terms.length === 0) {
    target.textContent = text;
    return;
  }
  target.replaceChildren();
  for (const piece of markTerms(text, terms)) {
    if (piece.mark) target.append(el('mark', '', piece.text));
    else target.append(document.createTextNode(piece.text));
  }
}

/**
 * Builds the live tail page in `root`.
 * @param {HTMLElement} root
 */
export function mount(root) {
  const params = new URLSearchParams(location.search);
  const buffer = new TailBuffer(MAX_ROWS);
  /** @type {EventSource|null} */
  let source = null;
  let running = false;
  let attempt = 0;
  /** @type {ReturnType<typeof setTimeout>|0} */
  let retryTimer = 0;
  let frame = 0;
  let lagged = 0;
  let received = 0;
  /** Events of a reconnection's backlog still to check against those shown. */
  let dedupeBudget = 0;
  let backlogNew = 0;
  const deduper = new Deduper(MAX_ROWS + BACKLOG);
  let terms = parseTerms(params.get('highlight') ?? '');

  ensureStylesheet(document);
  root.replaceChildren();
  root.classList.add('tail-app');

  const form = el('form', 'tail-form');
  form.setAttribute('role', 'search');
  const qLabel = el('label', 'tail-label', 'Filter ');
  const q = /** @type {HTMLInputElement} */ (el('input', 'query-input'));
  Object.assign(q, { name: 'q', type: 'search', autocomplete: 'off', spellcheck: false });
  q.placeholder = 'host:fw1 AND -app:cron';
  q.value = params.get('q') ?? '';
  qLabel.append(q);
  const start = el('button', 'btn btn-primary', 'Start');
  start.setAttribute('type', 'submit');
  const stop = el('button', 'btn', 'Stop');
  stop.setAttribute('type', 'button');
  const pause = el('button', 'btn', 'Pause');
  pause.setAttribute('type', 'button');
  pause.setAttribute('aria-pressed', 'false');
  const hlLabel = el('label', 'tail-label', 'Highlight ');
  const hl = /** @type {HTMLInputElement} */ (el('input', 'highlight-input'));
  Object.assign(hl, { name: 'highlight', type: 'text', autocomplete: 'off' });
  hl.placeholder = 'terms, comma-separated';
  hl.value = terms.join(', ');
  hlLabel.append(hl);
  form.append(qLabel, start, stop, pause, hlLabel);

  const statusBar = el('div', 'tail-status');
  const connection = el('span', 'tail-connection', 'Stopped.');
  connection.setAttribute('role', 'status');
  const pausedNote = el('span', 'tail-paused');
  pausedNote.setAttribute('aria-live', 'polite');
  const counts = el('span', 'tail-counts muted');
  statusBar.append(connection, pausedNote, counts);
  const warnings = el('div', 'tail-warnings');
  warnings.setAttribute('role', 'alert');
  const lagNote = el('p', 'warning tail-lagged');
  lagNote.hidden = true;
  const capNote = el('p', 'notice tail-cap');
  capNote.hidden = true;
  warnings.append(lagNote, capNote);

  const list = el('div', 'tail-list');
  list.setAttribute('role', 'log');
  list.setAttribute('aria-label', 'Live events');
  list.tabIndex = 0;
  const spacer = el('div', 'tail-spacer');
  list.append(spacer);
  const rows = new WindowedRows(list, spacer, {
    rowHeight: ROW_PX,
    create: createRow,
    fill: fillRow,
    // A row keeps its element while it stays on the page, whatever leaves above it.
    key: (i) => buffer.rows.first + i,
  });
  // A taller view shows more rows.
  new ResizeObserver(() => schedule()).observe(list);
  const jump = el('button', 'btn tail-jump', 'Scroll to newest');
  jump.setAttribute('type', 'button');
  jump.hidden = true;
  root.append(form, statusBar, warnings, list, jump);

  /** Whether the view follows the newest row. */
  const atBottom = () => list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
  let follow = true;
  /** The user pressed Pause. */
  let userPaused = false;
  /** Drawing is held because the user scrolled up to read. */
  let heldByScroll = false;

  /** Pauses or resumes the buffer from the two reasons to hold. */
  function applyHold() {
    if (userPaused || heldByScroll) {
      buffer.pause();
    } else {
      buffer.resume();
      schedule();
    }
    showCounts();
  }

  // Scrolling up holds new rows back so that the rows being read stay in
  // place (nothing is removed above them); back at the bottom, they are drawn.
  list.addEventListener('scroll', () => {
    schedule();
    follow = atBottom();
    jump.hidden = follow;
    if (!follow && !heldByScroll) {
      heldByScroll = true;
      applyHold();
    } else if (follow && heldByScroll) {
      heldByScroll = false;
      applyHold();
    }
  });
  jump.addEventListener('click', () => {
    list.scrollTop = list.scrollHeight;
    follow = true;
    jump.hidden = true;
    heldByScroll = false;
    applyHold();
  });

  /**
   * An empty row element, filled by `fillRow` (and refilled when reused).
   * @returns {HTMLElement}
   */
  function createRow() {
    const r = el('div', 'tail-row');
    r.dataset.testid = 'tail-row';
    for (const part of ['hit-time', 'hit-sev', 'hit-host', 'hit-app', 'hit-msg']) r.append(el('span', part));
    return r;
  }

  /**
   * Shows the page's row `i` (0 the oldest) in a row element.
   * @param {HTMLElement} r
   * @param {number} i
   */
  function fillRow(r, i) {
    const ev = buffer.rows.at(i);
    if (ev === undefined) return;
    const message = String(ev.message ?? '');
    r.className = `tail-row ${severityClass(ev.severity_code)}`;
    const [time, sev, host, app, msg] = /** @type {HTMLElement[]} */ ([...r.children]);
    time.textContent = formatTime(ev.timestamp);
    sev.textContent = severityLabel(ev);
    host.textContent = ev.host ?? '';
    app.textContent = ev.app ?? '';
    fillMarked(msg, oneLine(message, MESSAGE_CHARS), terms);
    r.title = message.length > MESSAGE_CHARS ? `${message.slice(0, MESSAGE_CHARS)}…` : message;
  }

  /** Draws on the next frame: what waits, and the rows in view. */
  function schedule() {
    if (frame) return;
    frame = requestAnimationFrame(drawFrame);
  }

  /**
   * Moves what waits onto the page and puts the rows in view into the DOM;
   * when following, the view is the newest rows.
   */
  function drawFrame() {
    frame = 0;
    const f = buffer.takeFrame();
    if (f && !follow && f.remove > 0) {
      // Rows above the reader went away: move up by their height.
      list.scrollTop = Math.max(0, list.scrollTop - f.remove * ROW_PX);
    }
    if (follow) {
      const height = list.clientHeight;
      const top = endScrollTop(buffer.shown, ROW_PX, height);
      rows.render(buffer.shown, top, height, FOLLOW_OVERSCAN);
      list.scrollTop = top;
    } else {
      rows.render(buffer.shown);
    }
    if (f) showCounts();
  }

  function showCounts() {
    counts.textContent = `${formatCount(buffer.shown)} rows shown · ${formatCount(received)} received`;
    const held = formatCount(buffer.newWhilePaused);
    if (userPaused) {
      pausedNote.textContent = `Paused: ${held} new while paused`;
    } else if (heldByScroll) {
      pausedNote.textContent = `Scrolled up: holding ${held} new events; scroll to the bottom to see them`;
    } else {
      pausedNote.textContent = '';
    }
    jump.textContent = heldByScroll ? `Scroll to newest (${held} new)` : 'Scroll to newest';
    if (buffer.dropped > 0) {
      capNote.hidden = false;
      capNote.textContent = `Only the newest ${formatCount(MAX_ROWS)} rows are kept: ${formatCount(buffer.dropped)} older rows were removed from this page.`;
    }
  }

  /**
   * @param {string} text
   * @param {'ok'|'warn'|'off'} kind
   */
  function setConnection(text, kind) {
    connection.textContent = text;
    connection.dataset.state = kind;
  }

  function connect() {
    const url = tailUrl(q.value.trim(), BACKLOG);
    const es = new EventSource(url, { withCredentials: true });
    source = es;
    setConnection(attempt > 0 ? 'Reconnecting…' : 'Connecting…', 'warn');
    es.onopen = () => {
      if (source !== es) return;
      if (attempt > 0) {
        dedupeBudget = BACKLOG;
        backlogNew = 0;
      }
      attempt = 0;
      setConnection(`Live: following ${q.value.trim() || 'all events'}`, 'ok');
    };
    es.onmessage = (m) => {
      if (source !== es) return;
      const msg = parseTailMessage(m.data);
      if (!msg) return;
      if (msg.kind === 'lagged') {
        lagged += msg.count;
        lagNote.hidden = false;
        lagNote.textContent = `The server dropped ${formatCount(lagged)} events for this browser because it could not keep up.`;
        return;
      }
      const fresh = deduper.add(msg.event);
      if (dedupeBudget > 0) {
        dedupeBudget -= 1;
        if (!fresh) return;
        backlogNew += 1;
        if (dedupeBudget === 0 && backlogNew === BACKLOG) {
          lagNote.hidden = false;
          lagNote.textContent = `${lagged ? `${lagNote.textContent} ` : ''}More than ${BACKLOG} events arrived while disconnected; some of them are not shown.`;
        }
      } else if (!fresh) {
        return;
      }
      received += 1;
      buffer.push(msg.event);
      if (!buffer.paused) schedule();
      else if (received % 50 === 0) showCounts();
    };
    es.onerror = () => {
      if (source !== es) return;
      es.close();
      source = null;
      if (!running) return;
      attempt += 1;
      const wait = backoffMs(attempt);
      setConnection(`Connection lost; reconnecting in ${Math.round(wait / 1000)} s (attempt ${attempt}).`, 'warn');
      retryTimer = setTimeout(() => {
        retryTimer = 0;
        if (running) connect();
      }, wait);
    };
  }

  function disconnect() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = 0;
    source?.close();
    source = null;
  }

  function startTail() {
    disconnect();
    running = true;
    attempt = 0;
    dedupeBudget = 0;
    buffer.clear();
    rows.invalidate();
    lagged = 0;
    received = 0;
    lagNote.hidden = true;
    capNote.hidden = true;
    follow = true;
    jump.hidden = true;
    heldByScroll = false;
    applyHold();
    const p = new URLSearchParams({ q: q.value.trim() });
    if (hl.value.trim()) p.set('highlight', hl.value.trim());
    history.replaceState(null, '', `${location.pathname}?${p}`);
    schedule();
    connect();
    showCounts();
  }

  function stopTail() {
    running = false;
    disconnect();
    setConnection('Stopped.', 'off');
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    startTail();
  });
  stop.addEventListener('click', stopTail);
  pause.addEventListener('click', () => {
    userPaused = !userPaused;
    pause.textContent = userPaused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(userPaused));
    if (!userPaused && heldByScroll) {
      // Resuming means live again: go to the newest rows.
      list.scrollTop = list.scrollHeight;
      follow = true;
      jump.hidden = true;
      heldByScroll = false;
    }
    applyHold();
  });
  /** Marks the rows with the highlight terms (those in view now, the others as they come into view). */
  function applyHighlight() {
    terms = parseTerms(hl.value);
    rows.invalidate();
    schedule();
  }
  /** @type {ReturnType<typeof setTimeout>|0} */
  let highlightTimer = 0;
  hl.addEventListener('input', () => {
    if (highlightTimer) clearTimeout(highlightTimer);
    highlightTimer = setTimeout(() => {
      highlightTimer = 0;
      applyHighlight();
    }, 300);
  });
  // Enter in the highlight field applies it; it does not restart the tail.
  hl.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      applyHighlight();
    }
  });
  // A hidden tab keeps its connection: frames stop, events queue (within the
  // cap), and the first frame after return draws them.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && buffer.waiting > 0) schedule();
  });

  startTail();
}

if (typeof document !== 'undefined') {
  const root = document.getElementById('tail-app');
  if (root) mount(root);
}
