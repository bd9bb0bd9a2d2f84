// The search page's list of hits (windowed by virtual.js: only the rows in
// view are in the DOM, so 100 000 loaded events stay fast), the detail
// panel of one event, and "events around this one". The functions at the
// top are pure.

import {
  cutText,
  eventFields,
  formatTime,
  oneLine,
  severityClass,
  severityLabel,
  formatCount,
  parseRfc3339,
  toRfc3339,
} from './format.js';
import { quoteValue } from './query.js';
import { WindowedRows } from './virtual.js';

/** Height of one row of the list, in CSS pixels (search.css agrees). */
export const ROW_HEIGHT = 26;
/** Characters of a message shown in a row. */
export const ROW_MESSAGE_CHARS = 400;
/** Characters of a value shown in the detail before its expander. */
export const DETAIL_VALUE_CHARS = 4000;

/**
 * The key of an event in the page's URL: `<timestamp>|<host>`.
 * @param {{timestamp: string, host?: string|null}} ev
 * @returns {string}
 */
export function hitKey(ev) {
  return `${ev.timestamp}|${ev.host ?? ''}`;
}

/**
 * Splits a URL hit key into time stamp and host.
 * @param {string} key
 * @returns {{timestamp: string, host: string}}
 */
export function parseHitKey(key) {
  const at = key.indexOf('|');
  return at < 0
    ? { timestamp: key, host: '' }
    : { timestamp: key.slice(0, at), host: key.slice(at + 1) };
}

/**
 * An identity of an event for removing repeats (two searches may return it).
 * @param {Record<string, any>} ev
 * @returns {string}
 */
export function eventIdentity(ev) {
  return JSON.stringify([ev.timestamp, ev.received_at, ev.host, ev.app, ev.input, ev.message]);
}

/**
 * The query that finds an event's neighbours: same host, or, for an event
 * without one, same input.
 * @param {{host?: string|null, input?: string}} ev
 * @returns {string}
 */
export function neighbourQuery(ev) {
  if (ev.host) return `host:${quoteValue(ev.host)}`;
  return ev.input ? `input:${quoteValue(ev.input)}` : '';
}

/**
 * The two searches of "N events before and after": before is newest first
 * up to the event's time, after is oldest first from it.
 * @param {{timestamp: string, host?: string|null, input?: string}} ev
 * @param {number} n
 * @returns {{before: URLSearchParams, after: URLSearchParams}}
 */
export function contextByCount(ev, n) {
  const q = neighbourQuery(ev);
  return {
    before: new URLSearchParams({ q, to: ev.timestamp, limit: String(n) }),
    after: new URLSearchParams({ q, from: ev.timestamp, order: 'asc', limit: String(n) }),
  };
}

/**
 * The search of "T seconds before and after", oldest first.
 * @param {{timestamp: string, host?: string|null, input?: string}} ev
 * @param {number} seconds
 * @param {number} limit
 * @returns {URLSearchParams}
 */
export function contextBySeconds(ev, seconds, limit) {
  const t = parseRfc3339(ev.timestamp);
  return new URLSearchParams({
    q: neighbourQuery(ev),
    from: toRfc3339(t - seconds * 1000),
    to: toRfc3339(t + seconds * 1000 + 1),
    order: 'asc',
    limit: String(limit),
  });
}

/**
 * Joins the events before (newest first, as searched) and after (oldest
 * first) an event into one oldest-first list without repeats, the event
 * itself included once and marked `self`.
 * @param {Record<string, any>[]} before
 * @param {Record<string, any>[]} after
 * @param {Record<string, any>} ev
 * @returns {{event: Record<string, any>, self: boolean}[]}
 */
export function mergeContext(before, after, ev) {
  const selfId = eventIdentity(ev);
  const seen = new Set();
  /** @type {{event: Record<string, any>, self: boolean}[]} */
  const out = [];
  for (const e of [...before.slice().reverse(), ...after]) {
    const id = eventIdentity(e);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ event: e, self: id === selfId });
  }
  if (!seen.has(selfId)) {
    // Not returned by either search: put it where its time puts it.
    const t = parseRfc3339(ev.timestamp);
    const at = out.findIndex((r) => parseRfc3339(r.event.timestamp) > t);
    out.splice(at < 0 ? out.length : at, 0, { event: ev, self: true });
  }
  return out;
}

/**
 * Copies text to the clipboard; resolves false when the browser refused.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

/**
 * Makes an element with a class and text.
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * A button.
 * @param {string} label
 * @param {() => void} onClick
 * @param {{className?: string, title?: string}} [opts]
 * @returns {HTMLButtonElement}
 */
export function button(label, onClick, opts = {}) {
  const b = /** @type {HTMLButtonElement} */ (el('button', opts.className ?? 'btn', label));
  b.type = 'button';
  if (opts.title) {
    b.title = opts.title;
    b.setAttribute('aria-label', opts.title);
  }
  b.addEventListener('click', onClick);
  return b;
}

/**
 * A button that copies text and says whether it worked.
 * @param {() => string} text
 * @param {string} what for the label, e.g. `message`
 * @returns {HTMLButtonElement}
 */
function copyButton(text, what) {
  const b = button(
    'Copy',
    async () => {
      const ok = await copyText(text());
      b.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => {
        b.textContent = 'Copy';
      }, 1500);
    },
    { className: 'btn btn-small', title: `Copy ${what}` },
  );
  return b;
}

/**
 * A value shown cut to `max` characters with a button that shows the rest.
 * @param {string} value
 * @param {string} tag `pre` or `span`
 * @param {number} max
 * @returns {HTMLElement}
 */
function expandable(value, tag, max) {
  const wrap = el('div', 'expandable');
  const body = el(tag, 'value');
  const { text, cut } = cutText(value, max);
  body.textContent = text;
  wrap.append(body);
  if (cut) {
    const more = button(`Show all ${formatCount(value.length)} characters`, () => {
      body.textContent = value;
      more.remove();
    }, { className: 'btn btn-small' });
    body.append(document.createTextNode('…'));
    wrap.append(more);
  }
  return wrap;
}

/**
 * One row of a list of events (used by the hit list and the context list).
 * @param {Record<string, any>} ev
 * @returns {HTMLElement}
 */
export function eventRow(ev) {
  const row = el('div');
  fillEventRow(row, ev);
  return row;
}

/**
 * Makes an element (new or reused) the row of an event.
 * @param {HTMLElement} row
 * @param {Record<string, any>} ev
 */
function fillEventRow(row, ev) {
  row.className = `hit-row ${severityClass(ev.severity_code)}`;
  const sev = el('span', 'hit-sev', severityLabel(ev));
  sev.title = `severity ${ev.severity_code ?? 'unknown'}`;
  row.replaceChildren(
    el('span', 'hit-time', formatTime(ev.timestamp)),
    sev,
    el('span', 'hit-host', ev.host ?? ''),
    el('span', 'hit-app', ev.app ?? ''),
    el('span', 'hit-msg', oneLine(ev.message, ROW_MESSAGE_CHARS)),
  );
}

/**
 * @typedef {object} HitListOptions
 * @property {(index: number, ev: Record<string, any>) => void} onOpen  a row was opened
 * @property {() => void} onNeedMore  the end of the loaded rows is in view
 */

/** A windowed list of events with one selected row. */
export class HitList {
  /**
   * @param {HTMLElement} viewport the scrolling element
   * @param {HitListOptions} opts
   */
  constructor(viewport, opts) {
    this.viewport = viewport;
    this.opts = opts;
    /** @type {Record<string, any>[]} */
    this.events = [];
    this.selected = -1;
    this.viewport.classList.add('hit-viewport');
    this.viewport.tabIndex = 0;
    this.viewport.setAttribute('role', 'list');
    this.viewport.setAttribute('aria-label', 'Matching events');
    this.spacer = el('div', 'hit-spacer');
    this.sentinel = el('div', 'hit-sentinel');
    this.viewport.append(this.spacer, this.sentinel);
    this.rows = new WindowedRows(viewport, this.spacer, {
      rowHeight: ROW_HEIGHT,
      create: () => el('div'),
      fill: (row, i) => this.fillRow(row, i),
    });
    /** Whether the next render fills every row again. */
    this.stale = true;
    this.frame = 0;
    this.viewport.addEventListener('scroll', () => this.schedule());
    this.spacer.addEventListener('click', (e) => {
      const row = /** @type {HTMLElement|null} */ (
        e.target instanceof Element ? e.target.closest('[data-index]') : null
      );
      if (!row) return;
      const i = Number(row.dataset.index);
      this.select(i);
      this.opts.onOpen(i, this.events[i]);
    });
    this.observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) this.opts.onNeedMore();
      },
      { root: viewport, rootMargin: '0px 0px 600px 0px' },
    );
    this.observer.observe(this.sentinel);
    new ResizeObserver(() => this.schedule(true)).observe(viewport);
  }

  /**
   * Replaces the rows (a new search); keeps the scroll position when asked.
   * @param {Record<string, any>[]} events
   * @param {{keepScroll?: boolean}} [opts]
   */
  set(events, opts = {}) {
    this.events = events.slice();
    this.selected = -1;
    if (!opts.keepScroll) this.viewport.scrollTop = 0;
    this.schedule(true);
  }

  /**
   * Adds the next page of rows.
   * @param {Record<string, any>[]} events
   */
  append(events) {
    for (const e of events) this.events.push(e);
    this.schedule(true);
  }

  /**
   * Whether the end of the loaded rows is near the bottom of the view.
   * @returns {boolean}
   */
  nearEnd() {
    const v = this.viewport;
    return v.scrollTop + v.clientHeight >= this.events.length * ROW_HEIGHT - 600;
  }

  /**
   * The index of the first event with this URL key, or -1.
   * @param {string} key
   * @returns {number}
   */
  indexOfKey(key) {
    return this.events.findIndex((e) => hitKey(e) === key);
  }

  /**
   * Selects a row and scrolls it into view.
   * @param {number} i
   */
  select(i) {
    if (this.events.length === 0) return;
    this.selected = Math.max(0, Math.min(this.events.length - 1, i));
    const top = this.selected * ROW_HEIGHT;
    const v = this.viewport;
    if (top < v.scrollTop) v.scrollTop = top;
    else if (top + ROW_HEIGHT > v.scrollTop + v.clientHeight) {
      v.scrollTop = top + ROW_HEIGHT - v.clientHeight;
    }
    this.schedule(true);
  }

  /**
   * Moves the selection by `delta` rows.
   * @param {number} delta
   */
  move(delta) {
    this.select(this.selected < 0 ? 0 : this.selected + delta);
  }

  /** Opens the selected row. */
  openSelected() {
    if (this.selected >= 0) this.opts.onOpen(this.selected, this.events[this.selected]);
  }

  /**
   * Renders on the next frame.
   * @param {boolean} [force] even if the window did not change
   */
  schedule(force = false) {
    if (force) this.stale = true;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Puts the rows in view into the DOM. */
  render() {
    if (this.stale) this.rows.invalidate();
    this.stale = false;
    if (this.rows.render(this.events.length) && this.nearEnd()) this.opts.onNeedMore();
  }

  /**
   * Shows event `i` in a row element.
   * @param {HTMLElement} row
   * @param {number} i
   */
  fillRow(row, i) {
    fillEventRow(row, this.events[i]);
    row.dataset.testid = 'hit';
    row.dataset.index = String(i);
    row.setAttribute('role', 'listitem');
    if (i === this.selected) {
      row.classList.add('selected');
      row.setAttribute('aria-current', 'true');
    } else {
      row.removeAttribute('aria-current');
    }
  }
}

/**
 * @typedef {object} DetailOptions
 * @property {(field: string, value: string, mode: 'include'|'exclude') => void} onFilter
 * @property {() => void} onClose
 * @property {(params: URLSearchParams) => Promise<{total: number, hits: any[]}>} search
 */

/**
 * Fills the detail panel with one event: every field with copy and filter
 * buttons, the raw bytes, and the events around it.
 * @param {HTMLElement} panel
 * @param {Record<string, any>} ev
 * @param {DetailOptions} opts
 */
export function renderDetail(panel, ev, opts) {
  panel.replaceChildren();
  panel.hidden = false;
  panel.dataset.key = hitKey(ev);
  const head = el('div', 'detail-head');
  const title = el('h2', 'detail-title', `${formatTime(ev.timestamp)} ${ev.host ?? ''}`);
  title.id = 'detail-title';
  panel.setAttribute('aria-labelledby', 'detail-title');
  head.append(
    title,
    copyButton(() => JSON.stringify(ev, null, 2), 'event as JSON'),
    button('Close', opts.onClose, { className: 'btn', title: 'Close the detail (Esc)' }),
  );
  panel.append(head);
  if (ev.parse_error) {
    panel.append(el('p', 'notice', `Did not parse: ${ev.parse_error_reason ?? 'no reason given'}`));
  }
  if (ev.truncated) panel.append(el('p', 'notice', 'This event was cut to the maximum size when received.'));

  const table = el('table', 'fields-table');
  const caption = el('caption', 'offscreen', 'Fields of the event');
  const body = el('tbody');
  for (const [name, value] of eventFields(ev)) {
    const tr = el('tr');
    const th = el('th', 'field-name', name);
    th.setAttribute('scope', 'row');
    const td = el('td', 'field-value');
    td.append(expandable(value, name === 'message' ? 'pre' : 'span', DETAIL_VALUE_CHARS));
    const actions = el('td', 'field-actions');
    actions.append(
      copyButton(() => value, name),
      button('+', () => opts.onFilter(name, value, 'include'), {
        className: 'btn btn-small',
        title: `Add ${name}:${value.slice(0, 40)} as a filter`,
      }),
      button('−', () => opts.onFilter(name, value, 'exclude'), {
        className: 'btn btn-small',
        title: `Exclude ${name}:${value.slice(0, 40)}`,
      }),
    );
    tr.append(th, td, actions);
    body.append(tr);
  }
  table.append(caption, body);
  panel.append(table);

  const raw = el('section', 'detail-raw');
  const rawHead = el('div', 'detail-subhead');
  rawHead.append(el('h3', '', 'Raw bytes'));
  if (ev.raw !== null && ev.raw !== undefined) {
    rawHead.append(copyButton(() => String(ev.raw), 'raw bytes'));
    raw.append(rawHead, expandable(String(ev.raw), 'pre', DETAIL_VALUE_CHARS));
  } else {
    raw.append(rawHead, el('p', 'muted', 'Not kept for this event.'));
  }
  panel.append(raw);
  panel.append(contextSection(ev, opts));
}

/**
 * The "events around this one" part of the detail.
 * @param {Record<string, any>} ev
 * @param {DetailOptions} opts
 * @returns {HTMLElement}
 */
function contextSection(ev, opts) {
  const section = el('section', 'detail-context');
  const head = el('div', 'detail-subhead');
  const who = ev.host ? `host ${ev.host}` : `input ${ev.input ?? ''}`;
  head.append(el('h3', '', `Events around this one (same ${who})`));
  const form = el('form', 'context-form');
  const mode = /** @type {HTMLSelectElement} */ (el('select'));
  mode.setAttribute('aria-label', 'How many events around');
  for (const [value, label] of [
    ['n10', '±10 events'],
    ['n50', '±50 events'],
    ['s5', '±5 seconds'],
    ['s30', '±30 seconds'],
    ['s300', '±5 minutes'],
  ]) {
    const o = /** @type {HTMLOptionElement} */ (el('option', '', label));
    o.value = value;
    mode.append(o);
  }
  const show = el('button', 'btn', 'Show');
  show.setAttribute('type', 'submit');
  form.append(mode, show);
  const status = el('p', 'muted');
  status.setAttribute('role', 'status');
  const list = el('div', 'context-list');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = 'Loading…';
    list.replaceChildren();
    try {
      const kind = mode.value[0];
      const amount = Number(mode.value.slice(1));
      /** @type {{event: Record<string, any>, self: boolean}[]} */
      let rows;
      let note = '';
      if (kind === 'n') {
        const p = contextByCount(ev, amount);
        const [before, after] = await Promise.all([opts.search(p.before), opts.search(p.after)]);
        rows = mergeContext(before.hits, after.hits, ev);
        note = `${before.hits.length} before (of ${formatCount(before.total)}), ${after.hits.length} after (of ${formatCount(after.total)}).`;
      } else {
        const limit = 500;
        const res = await opts.search(contextBySeconds(ev, amount, limit));
        rows = mergeContext([], res.hits, ev);
        note =
          res.total > res.hits.length
            ? `Showing the first ${res.hits.length} of ${formatCount(res.total)} events in ±${amount}s.`
            : `${formatCount(res.total)} events in ±${amount}s.`;
      }
      const frag = document.createDocumentFragment();
      let selfRow = null;
      for (const r of rows) {
        const row = eventRow(r.event);
        row.dataset.testid = 'context-row';
        if (r.self) {
          row.classList.add('context-self');
          row.setAttribute('aria-current', 'true');
          selfRow = row;
        }
        frag.append(row);
      }
      list.append(frag);
      status.textContent = `${note} The event itself is marked.`;
      selfRow?.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      status.textContent = `Loading the events around failed: ${err instanceof Error ? err.message : err}`;
    }
  });
  section.append(head, form, status, list);
  return section;
}
