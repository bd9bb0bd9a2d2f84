// The search page: builds everything inside `<main id="search-app">` —
// query bar with completion and syntax help, time picker, histogram, field
// sidebar, the windowed hit list, the event detail, export links and saved
// searches — and keeps the URL in step so a search can be shared.

import * as api from './api.js';
import { ensureStylesheet, formatCount, formatTime, parseRfc3339, toRfc3339 } from './format.js';
import { createHistogram } from './histogram.js';
import { HitList, button, el, hitKey, parseHitKey, renderDetail } from './hits.js';
import {
  SYNTAX_HELP,
  applyCompletion,
  complete,
  filterState,
  mergeFieldNames,
  setFilter,
} from './query.js';
import {
  PRESETS,
  absoluteRange,
  fromDatetimeLocal,
  rangeLabel,
  resolveRange,
  stateFromUrl,
  stateToUrl,
  toDatetimeLocal,
} from './timerange.js';

/** Hits per page. */
const PAGE = 100;
/** Fields whose top values come with every search. */
const TOP_FIELDS = ['host', 'app', 'severity', 'input'];
/** Top values shown per field at first. */
const TOP_SIZE = 10;
/** Top values shown after "show more". */
const TOP_SIZE_MORE = 100;
/** Standard fields offered in the sidebar when loaded events have them. */
const OPTIONAL_FIELDS = ['procid', 'msgid', 'facility', 'source', 'severity_code'];

/**
 * Builds the search page in `root` and runs the search in the URL.
 * @param {HTMLElement} root
 */
export function mount(root) {
  let state = stateFromUrl(location.search, location.hash);
  /** Names offered by completion. */
  let fieldNames = mergeFieldNames();
  /** @type {Record<string, {value: string, count: number}[]>} top values per field */
  let top = {};
  let total = 0;
  /** @type {string|null} */
  let next = null;
  let loadingMore = false;
  let seq = 0;
  /** @type {AbortController|null} */
  let inflight = null;
  /** @type {ReturnType<typeof setInterval>|0} */
  let autoTimer = 0;
  /** Sidebar sections the user opened, kept open across searches. */
  const openFields = new Set();
  /** Fields whose full list ("show more") was asked for. */
  const moreFields = new Set();
  /** Fields whose top values are being fetched, as `<search number>:<field>`. */
  const loadingTop = new Set();

  ensureStylesheet(document);
  root.replaceChildren();
  root.classList.add('search-app');

  // ---- query bar -------------------------------------------------------
  const form = /** @type {HTMLFormElement} */ (el('form', 'query-form'));
  form.setAttribute('role', 'search');
  const qLabel = el('label', 'offscreen', 'Query');
  qLabel.setAttribute('for', 'q');
  const qWrap = el('div', 'query-wrap');
  const q = /** @type {HTMLInputElement} */ (el('input', 'query-input'));
  Object.assign(q, { id: 'q', name: 'q', type: 'search', autocomplete: 'off', spellcheck: false });
  q.placeholder = 'host:fw1 AND -app:cron   (press / to focus)';
  q.setAttribute('aria-autocomplete', 'list');
  q.setAttribute('aria-controls', 'q-complete');
  q.setAttribute('aria-expanded', 'false');
  q.setAttribute('aria-describedby', 'query-error');
  const completion = el('ul', 'completion');
  completion.id = 'q-complete';
  completion.setAttribute('role', 'listbox');
  completion.setAttribute('aria-label', 'Completions');
  completion.hidden = true;
  qWrap.append(q, completion);
  const submit = el('button', 'btn btn-primary', 'Search');
  submit.setAttribute('type', 'submit');
  const helpButton = button('?', () => toggleHelp(), {
    className: 'btn',
    title: 'Query syntax help',
  });
  helpButton.setAttribute('aria-expanded', 'false');
  helpButton.setAttribute('aria-controls', 'syntax-help');
  const help = syntaxHelp();
  form.append(qLabel, qWrap, submit, helpButton, help);

  // ---- time picker -----------------------------------------------------
  const picker = el('div', 'time-picker');
  picker.setAttribute('role', 'group');
  picker.setAttribute('aria-label', 'Time range');
  const presetButtons = PRESETS.map((p) =>
    button(p, () => {
      state = { ...state, range: { since: p } };
      runSearch({ push: true });
    }, { className: 'btn btn-preset', title: `Last ${p}` }),
  );
  const custom = el('details', 'custom-range');
  const customSummary = el('summary', '', 'Custom');
  const fromInput = dateInput('range-from', 'From');
  const toInput = dateInput('range-to', 'To');
  const applyRange = button('Apply', () => {
    const a = fromDatetimeLocal(fromInput.input.value);
    const b = fromDatetimeLocal(toInput.input.value);
    if (Number.isNaN(a) || Number.isNaN(b) || a >= b) {
      api.showError(errorBox, 'choose a start before the end', 'Setting the time range');
      return;
    }
    state = { ...state, range: absoluteRange(a, b) };
    custom.open = false;
    runSearch({ push: true });
  });
  const zone = el('p', 'muted small', `Times in ${Intl.DateTimeFormat().resolvedOptions().timeZone}.`);
  custom.append(customSummary, fromInput.label, toInput.label, applyRange, zone);
  const rangeText = el('span', 'range-label');
  rangeText.setAttribute('aria-live', 'polite');
  picker.append(...presetButtons, custom, rangeText);

  // ---- actions: refresh, auto-refresh, export, saved searches ---------
  const actions = el('div', 'search-actions');
  const refresh = button('Refresh', () => runSearch({ refresh: true }), {
    className: 'btn',
    title: 'Run the search again',
  });
  const autoLabel = el('label', 'auto-refresh', 'Auto ');
  const auto = /** @type {HTMLSelectElement} */ (el('select'));
  for (const [v, t] of [['0', 'off'], ['10', '10s'], ['30', '30s']]) {
    const o = /** @type {HTMLOptionElement} */ (el('option', '', t));
    o.value = v;
    auto.append(o);
  }
  auto.addEventListener('change', () => setAutoRefresh(Number(auto.value)));
  autoLabel.append(auto);
  const csv = /** @type {HTMLAnchorElement} */ (el('a', 'btn', 'CSV'));
  csv.setAttribute('download', 'hark-export.csv');
  csv.title = 'Download the whole result as CSV';
  const ndjson = /** @type {HTMLAnchorElement} */ (el('a', 'btn', 'NDJSON'));
  ndjson.setAttribute('download', 'hark-export.ndjson');
  ndjson.title = 'Download the whole result as NDJSON';
  const exportGroup = el('span', 'export-links');
  exportGroup.append(el('span', 'muted', 'Export:'), csv, ndjson);
  const saved = savedSearches();
  actions.append(refresh, autoLabel, exportGroup, saved.root);

  const bar = el('div', 'search-bar');
  bar.append(form, picker, actions);
  const errorBox = el('div', 'error-box');
  errorBox.id = 'query-error';
  errorBox.setAttribute('role', 'alert');
  errorBox.hidden = true;

  // ---- histogram -------------------------------------------------------
  const histWrap = el('section', 'histogram');
  histWrap.setAttribute('aria-label', 'Events over time');
  const histNotes = el('p', 'muted small histogram-notes');
  const histogram = createHistogram(histWrap, {
    parse: parseRfc3339,
    notes: histNotes,
    onSelect: (range) => {
      state = { ...state, range };
      runSearch({ push: true });
    },
  });

  // ---- main: sidebar, hits, detail ------------------------------------
  const main = el('div', 'search-main');
  const sidebar = el('aside', 'field-sidebar');
  sidebar.setAttribute('aria-label', 'Top values of fields');
  const results = el('section', 'results');
  results.setAttribute('aria-label', 'Results');
  const summary = el('div', 'result-summary');
  summary.setAttribute('role', 'status');
  const header = el('div', 'hit-row hit-header');
  header.setAttribute('aria-hidden', 'true');
  for (const [c, t] of [['hit-time', 'Time'], ['hit-sev', 'Severity'], ['hit-host', 'Host'], ['hit-app', 'App'], ['hit-msg', 'Message']]) {
    header.append(el('span', c, t));
  }
  const viewport = el('div');
  const loadStatus = el('div', 'load-status muted small');
  loadStatus.setAttribute('aria-live', 'polite');
  results.append(summary, header, viewport, loadStatus);
  const detail = el('aside', 'detail-panel');
  detail.setAttribute('aria-label', 'Event detail');
  detail.tabIndex = -1;
  detail.hidden = true;
  main.append(sidebar, results, detail);

  root.append(bar, errorBox, histWrap, histNotes, main);

  const list = new HitList(viewport, {
    onOpen: (_i, ev) => openDetail(ev),
    onNeedMore: () => loadMore(),
  });

  // ---- behaviour -------------------------------------------------------

  /** Puts the state into the controls. */
  function syncControls() {
    q.value = state.q;
    const since = 'since' in state.range ? state.range.since : null;
    for (const b of presetButtons) b.setAttribute('aria-pressed', String(b.textContent === since));
    const { fromMs, toMs } = resolveRange(state.range, Date.now());
    fromInput.input.value = toDatetimeLocal(fromMs);
    toInput.input.value = toDatetimeLocal(toMs);
    rangeText.textContent = rangeLabel(state.range, (ms) => formatTime(toRfc3339(ms)).slice(0, 19));
    csv.href = api.exportUrl(state.q, state.range, 'csv');
    ndjson.href = api.exportUrl(state.q, state.range, 'ndjson');
  }

  /** Writes the state into the URL; a new history entry when `push`. */
  function writeUrl(push) {
    const { search, hash } = stateToUrl(state);
    const url = `${location.pathname}${search}${hash}`;
    if (url === `${location.pathname}${location.search}${location.hash}`) return;
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  }

  /**
   * Runs the search of the state.
   * @param {{push?: boolean, refresh?: boolean}} opts
   */
  async function runSearch(opts = {}) {
    closeCompletion();
    if (opts.push) writeUrl(true);
    syncControls();
    const mine = ++seq;
    inflight?.abort();
    inflight = new AbortController();
    summary.textContent = opts.refresh ? `${summary.textContent} · refreshing…` : 'Searching…';
    root.setAttribute('aria-busy', 'true');
    try {
      const res = await api.search(
        { q: state.q, range: state.range, limit: PAGE, histogram: true, top: TOP_FIELDS, topSize: TOP_SIZE + 1 },
        inflight.signal,
      );
      if (mine !== seq) return;
      api.showError(errorBox, null);
      q.classList.remove('invalid');
      total = res.total;
      next = res.next;
      top = { ...(res.top ?? {}) };
      list.set(res.hits, { keepScroll: Boolean(opts.refresh) });
      const { fromMs, toMs } = resolveRange(state.range, Date.now());
      histogram.update(res.histogram ?? [], fromMs, toMs, total);
      renderSidebar();
      showSummary(res.took_ms);
      reselect();
      for (const f of new Set([...openFields, ...moreFields])) {
        if (!TOP_FIELDS.includes(f) || moreFields.has(f)) loadTop(f);
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      if (mine !== seq) return;
      api.showError(errorBox, e, 'Search');
      if (e instanceof api.ApiError && e.status === 400) {
        q.classList.add('invalid');
        if (e.position !== null && e.position <= q.value.length) {
          q.focus();
          q.setSelectionRange(e.position, e.position);
        }
      }
      summary.textContent = 'The search failed; see the message above.';
    } finally {
      if (mine === seq) root.removeAttribute('aria-busy');
      layout();
    }
  }

  /** Loads the next page of hits by cursor. */
  async function loadMore() {
    if (!next || loadingMore) return;
    loadingMore = true;
    const mine = seq;
    loadStatus.textContent = 'Loading more…';
    try {
      const res = await api.search({ q: state.q, range: state.range, limit: PAGE, cursor: next });
      if (mine !== seq) return;
      next = res.next;
      list.append(res.hits);
      renderExtraFields();
      showSummary(null);
      loadStatus.textContent = '';
    } catch (e) {
      if (mine === seq) {
        loadStatus.replaceChildren(
          el('span', 'error-text', `Loading more failed: ${e instanceof Error ? e.message : e} `),
          button('Retry', () => loadMore(), { className: 'btn btn-small' }),
        );
      }
    } finally {
      loadingMore = false;
      if (mine === seq && next && list.nearEnd()) queueMicrotask(() => loadMore());
    }
  }

  /** The "1–100 of 12 345" line, with what limits what is shown. */
  function showSummary(tookMs) {
    const loaded = list.events.length;
    const parts = [];
    if (total === 0) {
      parts.push('No events match.');
    } else {
      parts.push(`${formatCount(1)}–${formatCount(loaded)} of ${formatCount(total)} events`);
      if (loaded < total) {
        parts.push(next ? 'more load as you scroll' : `only ${formatCount(loaded)} could be loaded`);
      }
    }
    if (tookMs !== null) summary.dataset.took = String(tookMs);
    if (summary.dataset.took) parts.push(`took ${summary.dataset.took} ms`);
    summary.textContent = parts.join(' · ');
    summary.dataset.total = String(total);
  }

  /** Selects (and, from a shared URL, opens) the hit in the URL. */
  function reselect() {
    if (!state.hit) return;
    const i = list.indexOfKey(state.hit);
    if (i >= 0) list.select(i);
    if (detail.hidden) {
      if (i >= 0) openDetail(list.events[i], { keepUrl: true });
      else openSharedHit(state.hit);
    }
  }

  /**
   * Finds the event of a shared link that is not in the first page.
   * @param {string} key
   */
  async function openSharedHit(key) {
    const { timestamp, host } = parseHitKey(key);
    const ms = parseRfc3339(timestamp);
    if (Number.isNaN(ms)) return;
    const params = new URLSearchParams({
      q: host ? `host:"${host.replace(/[\\"]/g, '\\$&')}"` : '',
      from: timestamp,
      to: toRfc3339(ms + 1),
      limit: '20',
    });
    try {
      const res = await api.requestJson(`/api/v1/search?${params}`);
      const ev = res.hits.find((/** @type {any} */ e) => hitKey(e) === key);
      if (ev && detail.hidden) openDetail(ev, { keepUrl: true });
      else if (!ev) loadStatus.textContent = 'The event in the link was not found.';
    } catch (e) {
      loadStatus.textContent = `The event in the link could not be loaded: ${e instanceof Error ? e.message : e}`;
    }
  }

  /**
   * Opens the detail of an event (a refresh never closes it).
   * @param {Record<string, any>} ev
   * @param {{keepUrl?: boolean}} [opts]
   */
  function openDetail(ev, opts = {}) {
    renderDetail(detail, ev, {
      onClose: closeDetail,
      onFilter: (field, value, mode) => {
        state = { ...state, q: setFilter(state.q, field, value, mode) };
        runSearch({ push: true });
      },
      search: (params) => api.requestJson(`/api/v1/search?${params}`),
    });
    main.classList.add('with-detail');
    state = { ...state, hit: hitKey(ev) };
    if (!opts.keepUrl) writeUrl(false);
    layout();
  }

  /** Closes the detail. */
  function closeDetail() {
    detail.hidden = true;
    detail.replaceChildren();
    main.classList.remove('with-detail');
    state = { ...state, hit: null };
    writeUrl(false);
    viewport.focus();
  }

  /**
   * Loads the top values of one field (a lazily opened section, or "show more").
   * @param {string} field
   */
  async function loadTop(field) {
    const size = moreFields.has(field) ? TOP_SIZE_MORE : TOP_SIZE;
    const mine = seq;
    const token = `${mine}:${size}:${field}`;
    if (loadingTop.has(token)) return;
    loadingTop.add(token);
    const section = sidebar.querySelector(`[data-section="${CSS.escape(field)}"] .top-list`);
    if (section && !top[field]) section.textContent = 'Loading…';
    try {
      const res = await api.search({ q: state.q, range: state.range, limit: 1, top: [field], topSize: size + 1 });
      if (mine !== seq) return;
      top[field] = res.top?.[field] ?? [];
      renderSidebar();
    } catch (e) {
      const s = sidebar.querySelector(`[data-section="${CSS.escape(field)}"] .top-list`);
      if (s) s.textContent = `Could not load: ${e instanceof Error ? e.message : e}`;
    } finally {
      loadingTop.delete(token);
    }
  }

  /** The fields of the sidebar: the standard four, then those in loaded hits. */
  function sidebarFields() {
    const names = new Set(TOP_FIELDS);
    const extra = new Set();
    for (const ev of list.events.slice(0, 2000)) {
      for (const f of OPTIONAL_FIELDS) if (ev[f] !== null && ev[f] !== undefined) extra.add(f);
      if (ev.fields) for (const f of Object.keys(ev.fields)) extra.add(f);
    }
    for (const f of names) extra.delete(f);
    return { standard: TOP_FIELDS, extra: [...extra].sort() };
  }

  /** Adds sections for fields newly seen in loaded hits. */
  function renderExtraFields() {
    const { extra } = sidebarFields();
    if (extra.some((f) => !sidebar.querySelector(`[data-section="${CSS.escape(f)}"]`))) renderSidebar();
    fieldNames = mergeFieldNames(fieldNames, extra);
  }

  /** Draws the sidebar from the loaded top values. */
  function renderSidebar() {
    const { standard, extra } = sidebarFields();
    fieldNames = mergeFieldNames(fieldNames, extra);
    const frag = document.createDocumentFragment();
    frag.append(el('h2', 'sidebar-title', 'Fields'));
    for (const f of [...standard, ...extra]) {
      const lazy = !standard.includes(f);
      const section = /** @type {HTMLDetailsElement} */ (el('details', 'field-section'));
      section.dataset.section = f;
      section.open = !lazy || openFields.has(f);
      const sum = el('summary', 'field-section-title', f);
      const body = el('div', 'top-list');
      section.append(sum, body);
      if (top[f]) fillTopList(body, f, top[f]);
      else if (lazy) body.textContent = section.open ? 'Loading…' : '';
      section.addEventListener('toggle', () => {
        if (section.open) {
          openFields.add(f);
          if (!top[f]) loadTop(f);
        } else {
          openFields.delete(f);
        }
      });
      frag.append(section);
    }
    sidebar.replaceChildren(frag);
  }

  /**
   * The value list of one field.
   * @param {HTMLElement} body
   * @param {string} field
   * @param {{value: string, count: number}[]} values
   */
  function fillTopList(body, field, values) {
    body.replaceChildren();
    const limit = moreFields.has(field) ? TOP_SIZE_MORE : TOP_SIZE;
    const shown = values.slice(0, limit);
    if (shown.length === 0) {
      body.append(el('p', 'muted small', 'No values in this result.'));
      return;
    }
    const max = Math.max(...shown.map((v) => v.count), 1);
    const ul = el('ul', 'top-values');
    for (const v of shown) {
      const li = el('li', 'top-item');
      const st = filterState(state.q, field, v.value);
      const add = button('', () => {
        const mode = st === 'include' ? 'exclude' : 'include';
        state = { ...state, q: setFilter(state.q, field, v.value, st === 'exclude' ? null : mode) };
        runSearch({ push: true });
      }, {
        className: `top-value ${st ?? ''}`,
        title:
          st === 'include'
            ? `Exclude ${field}:${v.value} instead`
            : st === 'exclude'
              ? `Stop excluding ${field}:${v.value}`
              : `Filter on ${field}:${v.value}`,
      });
      add.dataset.testid = 'top-value';
      add.dataset.field = field;
      add.dataset.value = v.value;
      const barEl = el('span', 'top-bar');
      barEl.style.width = `${Math.round((v.count / max) * 100)}%`;
      add.append(
        barEl,
        el('span', 'top-text', v.value === '' ? '(empty)' : v.value),
        el('span', 'top-count', formatCount(v.count)),
      );
      const exclude = button('−', () => {
        state = { ...state, q: setFilter(state.q, field, v.value, 'exclude') };
        runSearch({ push: true });
      }, { className: 'btn btn-small top-exclude', title: `Exclude ${field}:${v.value}` });
      li.append(add, exclude);
      ul.append(li);
    }
    body.append(ul);
    if (values.length > limit) {
      const note = el('p', 'muted small top-cut');
      note.textContent = `${shown.length} of more than ${shown.length} values `;
      if (limit < TOP_SIZE_MORE) {
        note.append(
          button('show more', () => {
            moreFields.add(field);
            loadTop(field);
          }, { className: 'btn-link', title: `Show up to ${TOP_SIZE_MORE} values of ${field}` }),
        );
      }
      body.append(note);
    } else {
      body.append(el('p', 'muted small', `${shown.length} of ${shown.length} values`));
    }
  }

  // ---- query bar: completion and help ---------------------------------

  /** @type {import('./query.js').Completion|null} */
  let current = null;
  let active = -1;

  function updateCompletion() {
    const caret = q.selectionStart ?? q.value.length;
    current = complete(q.value, caret, { fields: fieldNames, values: top });
    active = -1;
    completion.replaceChildren();
    if (current.items.length === 0) {
      closeCompletion();
      return;
    }
    current.items.forEach((item, i) => {
      const li = el('li', `completion-item ${item.kind}`);
      li.id = `q-complete-${i}`;
      li.setAttribute('role', 'option');
      li.append(el('span', '', item.label));
      if (item.count !== undefined) li.append(el('span', 'muted', formatCount(item.count)));
      li.addEventListener('mousedown', (e) => {
        e.preventDefault();
        accept(i);
      });
      completion.append(li);
    });
    completion.hidden = false;
    q.setAttribute('aria-expanded', 'true');
  }

  function closeCompletion() {
    completion.hidden = true;
    q.setAttribute('aria-expanded', 'false');
    q.removeAttribute('aria-activedescendant');
    current = null;
    active = -1;
  }

  function highlight(i) {
    active = i;
    for (const [j, li] of [...completion.children].entries()) {
      li.setAttribute('aria-selected', String(j === i));
    }
    if (i >= 0) q.setAttribute('aria-activedescendant', `q-complete-${i}`);
  }

  function accept(i) {
    if (!current) return;
    const r = applyCompletion(q.value, current, current.items[i]);
    q.value = r.q;
    q.setSelectionRange(r.caret, r.caret);
    q.focus();
    updateCompletion();
  }

  function toggleHelp(force) {
    const show = force ?? help.hidden;
    help.hidden = !show;
    helpButton.setAttribute('aria-expanded', String(show));
  }

  function syntaxHelp() {
    const box = el('div', 'popover syntax-help');
    box.id = 'syntax-help';
    box.hidden = true;
    box.append(el('h2', '', 'Query syntax'));
    const dl = el('dl');
    for (const [form, example] of SYNTAX_HELP) {
      dl.append(el('dt', '', form), el('dd', 'mono', example));
    }
    box.append(dl, el('p', 'muted small', 'Field names: the standard ones and any extra field by its name. Keys: / focus, j/k move, Enter or o open, Esc close.'));
    return box;
  }

  q.addEventListener('input', updateCompletion);
  q.addEventListener('blur', () => setTimeout(closeCompletion, 100));
  q.addEventListener('keydown', (e) => {
    const open = !completion.hidden && current && current.items.length > 0;
    if (e.key === 'ArrowDown' && open) {
      e.preventDefault();
      highlight((active + 1) % current.items.length);
    } else if (e.key === 'ArrowUp' && open) {
      e.preventDefault();
      highlight(active <= 0 ? current.items.length - 1 : active - 1);
    } else if ((e.key === 'Enter' || e.key === 'Tab') && open && active >= 0) {
      e.preventDefault();
      accept(active);
    } else if (e.key === 'Escape') {
      // Not the search field's own Escape, which would clear the query.
      e.preventDefault();
      e.stopPropagation();
      if (open) closeCompletion();
      else if (!help.hidden) toggleHelp(false);
      else q.blur();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state = { ...state, q: q.value.trim() };
    runSearch({ push: true });
  });

  // ---- keyboard --------------------------------------------------------
  document.addEventListener('keydown', (e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable;
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const onControl = t instanceof HTMLButtonElement || t instanceof HTMLAnchorElement || t.tagName === 'SUMMARY';
    if (e.key === '/') {
      e.preventDefault();
      q.focus();
      q.select();
    } else if (e.key === 'j') {
      list.move(1);
    } else if (e.key === 'k') {
      list.move(-1);
    } else if (e.key === 'o' || (e.key === 'Enter' && !onControl)) {
      e.preventDefault();
      list.openSelected();
    } else if (e.key === 'Escape') {
      if (!help.hidden) toggleHelp(false);
      else if (!detail.hidden) closeDetail();
    }
  });

  // ---- saved searches ---------------------------------------------------

  function savedSearches() {
    const box = /** @type {HTMLDetailsElement} */ (el('details', 'saved-searches'));
    box.append(el('summary', 'btn', 'Saved'));
    const panel = el('div', 'popover saved-panel');
    const listEl = el('ul', 'saved-list');
    const status = el('p', 'muted small');
    status.setAttribute('role', 'status');
    const saveForm = el('form', 'saved-form');
    const nameLabel = el('label', 'offscreen', 'Name of the saved search');
    nameLabel.setAttribute('for', 'saved-name');
    const name = /** @type {HTMLInputElement} */ (el('input'));
    Object.assign(name, { id: 'saved-name', name: 'name', placeholder: 'Name', required: true });
    const save = el('button', 'btn', 'Save current');
    save.setAttribute('type', 'submit');
    saveForm.append(nameLabel, name, save);
    panel.append(el('h2', '', 'Saved searches'), listEl, status, saveForm);
    box.append(panel);

    async function reload() {
      status.textContent = 'Loading…';
      try {
        const items = await api.listSavedSearches();
        listEl.replaceChildren();
        for (const s of items) {
          const li = el('li');
          /** @type {import('./timerange.js').TimeRange} */
          const range = s.from && s.to ? { from: s.from, to: s.to } : { since: s.since || state.range.since || '15m' };
          const link = /** @type {HTMLAnchorElement} */ (el('a', 'saved-link', s.name));
          const url = stateToUrl({ q: s.q, range, hit: null });
          link.href = `${location.pathname}${url.search}`;
          link.title = s.q;
          link.addEventListener('click', (e) => {
            e.preventDefault();
            state = { q: s.q, range, hit: null };
            box.open = false;
            runSearch({ push: true });
          });
          const del = button('Delete', async () => {
            try {
              await api.deleteSavedSearch(s.id);
              reload();
            } catch (err) {
              status.textContent = `Deleting failed: ${err instanceof Error ? err.message : err}`;
            }
          }, { className: 'btn btn-small', title: `Delete the saved search ${s.name}` });
          li.append(link, del);
          listEl.append(li);
        }
        status.textContent = items.length ? '' : 'None yet.';
      } catch (err) {
        status.textContent =
          err instanceof api.ApiError && err.status === 404
            ? 'Saved searches are not available on this server.'
            : `Loading failed: ${err instanceof Error ? err.message : err}`;
      }
    }

    box.addEventListener('toggle', () => {
      if (box.open) reload();
    });
    saveForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { name: name.value.trim(), q: state.q, ...state.range };
      if (!body.name) return;
      try {
        await api.saveSearch(body);
        name.value = '';
        reload();
      } catch (err) {
        status.textContent = `Saving failed: ${err instanceof Error ? err.message : err}`;
      }
    });
    return { root: box };
  }

  // ---- auto refresh, history, layout ------------------------------------

  /** @param {number} seconds 0 for off */
  function setAutoRefresh(seconds) {
    if (autoTimer) clearInterval(autoTimer);
    autoTimer = 0;
    if (seconds > 0) {
      autoTimer = setInterval(() => {
        if (!document.hidden && !loadingMore) runSearch({ refresh: true });
      }, seconds * 1000);
    }
  }

  window.addEventListener('popstate', () => {
    const before = state.hit;
    state = stateFromUrl(location.search, location.hash);
    if (!state.hit && before) {
      detail.hidden = true;
      main.classList.remove('with-detail');
    }
    runSearch({});
  });

  /** Fits the results to the window so the lists scroll inside it. */
  function layout() {
    requestAnimationFrame(() => {
      const topPx = main.getBoundingClientRect().top + window.scrollY;
      main.style.height = `${Math.max(360, window.innerHeight - topPx - 8)}px`;
    });
  }
  window.addEventListener('resize', layout);

  api
    .fieldNames('24h')
    .then((names) => {
      if (names) fieldNames = mergeFieldNames(names, fieldNames);
    })
    .catch(() => {
      // The fixed names stay; completion still works.
    });

  syncControls();
  runSearch({});
}

/**
 * A labelled `datetime-local` input.
 * @param {string} id
 * @param {string} text
 * @returns {{label: HTMLElement, input: HTMLInputElement}}
 */
function dateInput(id, text) {
  const label = el('label', 'date-field', `${text} `);
  const input = /** @type {HTMLInputElement} */ (el('input'));
  input.type = 'datetime-local';
  input.step = '1';
  input.id = id;
  input.name = id;
  label.append(input);
  return { label, input };
}

if (typeof document !== 'undefined') {
  const root = document.getElementById('search-app');
  if (root) mount(root);
}
