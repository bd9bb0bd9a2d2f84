// Common behaviour of every page, loaded by the layout: buttons and forms
// that call the JSON API (`data-api-method` + `data-api-url`), their
// confirmation, their result and error display. No inline scripts or
// handlers exist anywhere (the Content-Security-Policy allows scripts from
// this server only); pages mark elements with data attributes instead:
//
//   data-api-method, data-api-url  the call; on a <form> the fields are the JSON body
//   data-confirm="…"               ask first
//   data-success="reload"          reload the page after success
//   data-success="list"            reload the `[data-list]` lists (admin.js)
//   data-result="#id"              show the answer in that element
//   data-render="table"            … as a table, `data-columns="a,b"`
//   data-body="field"              send that field's text as the whole body
//
// Form fields: `a.b` nests, `a[]` appends to a list, `a[].b` fills a list
// of objects; `data-type` on an input converts its value: `bool`
// (checkbox), `number`, `json`, `datetime` (datetime-local → RFC 3339 UTC),
// `datetime-ns` (→ nanoseconds since the epoch).
// formToJson, convertValue and tableOf are pure and tested under node.

/**
 * Converts a field's text by its `data-type`.
 * @param {string} value
 * @param {string|undefined} type
 * @param {boolean} [checked] for `bool`
 * @returns {unknown}
 */
export function convertValue(value, type, checked = false) {
  switch (type) {
    case 'bool':
      return checked;
    case 'number':
      return value === '' ? null : Number(value);
    case 'json':
      return JSON.parse(value);
    case 'datetime': {
      const ms = Date.parse(value);
      if (Number.isNaN(ms)) throw new Error(`not a date and time: ${value}`);
      return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
    }
    case 'datetime-ns': {
      const ms = Date.parse(value);
      if (Number.isNaN(ms)) throw new Error(`not a date and time: ${value}`);
      return ms * 1_000_000;
    }
    default:
      return value;
  }
}

/**
 * The JSON body of a form from its fields, in document order.
 * @param {{name: string, value: unknown}[]} fields already converted
 * @returns {Record<string, unknown>}
 */
export function formToJson(fields) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const { name, value } of fields) {
    if (!name) continue;
    const objList = name.match(/^(.+)\[\]\.(.+)$/);
    if (objList) {
      const list = (out[objList[1]] ||= []);
      let last = list[list.length - 1];
      if (!last || typeof last !== 'object' || objList[2] in last) {
        last = {};
        list.push(last);
      }
      last[objList[2]] = value;
      continue;
    }
    if (name.endsWith('[]')) {
      (out[name.slice(0, -2)] ||= []).push(value);
      continue;
    }
    const path = name.split('.');
    let target = out;
    for (const key of path.slice(0, -1)) target = target[key] ||= {};
    target[path[path.length - 1]] = value;
  }
  return out;
}

/**
 * Rows and header of a table of `items` with `columns` (all keys of the
 * first item when none are named).
 * @param {Record<string, unknown>[]} items
 * @param {string[]} [columns]
 * @returns {{head: string[], rows: string[][]}}
 */
export function tableOf(items, columns) {
  const head = columns && columns.length ? columns : Object.keys(items[0] || {});
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'boolean') return v ? 'OK' : 'FAIL';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
  return { head, rows: items.map((it) => head.map((c) => cell(it[c]))) };
}

/** Extra headers of every API call: the CSRF token when the page has one. */
function apiHeaders() {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta && meta.getAttribute('content');
  if (token) headers['X-CSRF-Token'] = token;
  return headers;
}

/**
 * Calls the API; resolves with the parsed answer (or null), rejects with
 * the server's error text.
 * @param {string} method
 * @param {string} url
 * @param {string|undefined} body JSON text
 */
export async function callApi(method, url, body, contentType = 'application/json') {
  const headers = apiHeaders();
  if (body !== undefined) headers['Content-Type'] = contentType;
  let resp;
  try {
    resp = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  } catch (e) {
    throw new Error(`the server cannot be reached (${e instanceof Error ? e.message : e})`);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    const message = data && typeof data === 'object' && 'error' in data ? data.error : text;
    if (resp.status === 401) throw new Error('you are signed out; reload the page to sign in again');
    throw new Error(`${resp.status}: ${message || resp.statusText}`);
  }
  return data;
}

/** Shows `message` in the page's flash box for a while. */
export function flash(message, ok = false) {
  const box = document.getElementById('flash');
  if (!box) return;
  box.textContent = message;
  box.classList.toggle('ok', ok);
  box.hidden = false;
  clearTimeout(Number(box.dataset.timer || 0));
  box.dataset.timer = String(setTimeout(() => (box.hidden = true), ok ? 4000 : 10000));
}

/** Puts an answer into the element named by `data-result`. */
function showResult(source, data) {
  const sel = source.dataset.result;
  const target = sel ? document.querySelector(sel) : null;
  if (!target) return;
  target.hidden = false;
  if (source.dataset.render === 'table' && Array.isArray(data)) {
    const cols = (source.dataset.columns || '').split(',').filter(Boolean);
    const { head, rows } = tableOf(data, cols);
    const table = document.createElement('table');
    table.className = 'data compact';
    const tr = table.createTHead().insertRow();
    for (const h of head) tr.append(Object.assign(document.createElement('th'), { textContent: h }));
    const body = table.createTBody();
    for (const r of rows) {
      const row = body.insertRow();
      r.forEach((v) => {
        const td = row.insertCell();
        td.textContent = v;
        if (v === 'FAIL') td.className = 'error-text';
      });
    }
    target.replaceChildren(table);
  } else {
    target.textContent = typeof data === 'string' ? data : JSON.stringify(data, null, 2);
  }
}

/** The fields of a form, converted by their `data-type`. */
function formFields(form) {
  const fields = [];
  for (const el of form.elements) {
    const input = /** @type {HTMLInputElement} */ (el);
    if (!input.name || input.disabled || input.type === 'submit' || input.type === 'button') continue;
    const type = input.dataset.type;
    if (input.type === 'checkbox' && type !== 'bool' && !input.checked) continue;
    fields.push({ name: input.name, value: convertValue(input.value, type, input.checked) });
  }
  return fields;
}

/** Runs the call an element describes. */
async function act(el, form) {
  if (el.dataset.confirm && !window.confirm(el.dataset.confirm)) return;
  const method = el.dataset.apiMethod || 'POST';
  const url = el.dataset.apiUrl;
  if (!url) return;
  let body;
  try {
    if (form && el.dataset.body) {
      const field = /** @type {HTMLTextAreaElement|null} */ (form.elements.namedItem(el.dataset.body));
      body = JSON.stringify(JSON.parse(field ? field.value : ''));
    } else if (form) {
      body = JSON.stringify(formToJson(formFields(form)));
    }
  } catch (e) {
    flash(`Not sent: ${e instanceof Error ? e.message : e}`);
    return;
  }
  const busy = form ? form.querySelector('[type="submit"]') : el;
  busy?.setAttribute('aria-busy', 'true');
  try {
    const data = await callApi(method, url, body);
    showResult(el, data);
    if (el.dataset.success === 'reload') {
      location.reload();
    } else if (el.dataset.success === 'list') {
      document.dispatchEvent(new CustomEvent('hark:changed'));
      form?.reset();
    } else if (!el.dataset.result) {
      flash('Done.', true);
    }
  } catch (e) {
    flash(e instanceof Error ? e.message : String(e));
  } finally {
    busy?.removeAttribute('aria-busy');
  }
}

if (typeof document !== 'undefined') {
  document.addEventListener('click', (e) => {
    const target = /** @type {Element} */ (e.target);
    const el = target.closest && target.closest('button[data-api-method]');
    if (!el || el.tagName !== 'BUTTON' || /** @type {HTMLButtonElement} */ (el).type === 'submit') return;
    e.preventDefault();
    act(/** @type {HTMLElement} */ (el), null);
  });
  document.addEventListener('submit', (e) => {
    const form = /** @type {HTMLFormElement} */ (e.target);
    if (!form.dataset || !form.dataset.apiMethod) return;
    e.preventDefault();
    act(form, form);
  });
  // htmx answers that are errors keep the old content; say why.
  document.addEventListener('htmx:responseError', (e) => {
    const detail = /** @type {CustomEvent} */ (e).detail;
    flash(`Refresh failed: ${detail.xhr ? detail.xhr.status : 'network error'}`);
  });
}
