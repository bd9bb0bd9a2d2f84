// The admin and account pages' lists of users and tokens, read from the
// users and tokens API and changed through it, and the admin page's forms
// of forwarder group configurations (PUT as text). Every element
// `[data-list="users"|"tokens"][data-api-url]` is filled; a
// `hark:changed` event (app.js, after a change) fills them again.
// columnsOf is pure and tested under node.

import { callApi, flash } from './app.js';

/** Keys never shown in a list. */
const HIDDEN = new Set(['secret', 'password', 'password_hash', 'hash']);

/**
 * The columns to show for a list of objects: their keys but secrets.
 * @param {Record<string, unknown>[]} items
 * @returns {string[]}
 */
export function columnsOf(items) {
  const keys = [];
  for (const it of items) {
    for (const k of Object.keys(it)) if (!HIDDEN.has(k) && !keys.includes(k)) keys.push(k);
  }
  return keys;
}

/**
 * What names an item in its URL: a user's `name`, a token's `id`.
 * @param {'users'|'tokens'} kind
 * @param {Record<string, unknown>} item
 * @returns {string}
 */
export function keyOf(kind, item) {
  return String((kind === 'tokens' ? item.id : item.name) ?? '');
}

function text(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function button(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn btn-small';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

async function change(method, url, body, question) {
  if (question && !window.confirm(question)) return;
  try {
    await callApi(method, url, body === undefined ? undefined : JSON.stringify(body));
    flash('Done.', true);
    document.dispatchEvent(new CustomEvent('hark:changed'));
  } catch (e) {
    flash(e instanceof Error ? e.message : String(e));
  }
}

/** The actions of one row. */
function actions(kind, base, item) {
  const name = keyOf(kind, item);
  const url = `${base.split('?')[0]}/${encodeURIComponent(name)}`;
  const cell = document.createElement('td');
  cell.className = 'row-actions';
  if (kind === 'users') {
    const role = document.createElement('select');
    for (const r of ['viewer', 'operator', 'admin']) {
      const o = document.createElement('option');
      o.value = o.textContent = r;
      o.selected = item.role === r;
      role.append(o);
    }
    role.setAttribute('aria-label', `Role of ${name}`);
    role.addEventListener('change', () => change('PUT', url, { role: role.value }));
    cell.append(
      role,
      button('Reset password', () => {
        const password = window.prompt(`New password for ${name}`);
        if (password) change('PUT', url, { password });
      }),
      button('Remove', () => change('DELETE', url, undefined, `Remove user ${name}?`)),
    );
  } else {
    cell.append(
      button('Revoke', () => change('DELETE', url, undefined, `Revoke token ${item.name ?? name}?`)),
    );
  }
  return cell;
}

/** Fills one list element from its API. */
async function fill(box) {
  const kind = box.dataset.list;
  const url = box.dataset.apiUrl;
  if (!kind || !url) return;
  let items;
  try {
    items = await callApi('GET', url);
  } catch (e) {
    const p = document.createElement('p');
    p.className = 'error-text';
    p.textContent = `Cannot list ${kind}: ${e instanceof Error ? e.message : e}`;
    box.replaceChildren(p);
    return;
  }
  if (!Array.isArray(items) || items.length === 0) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = `No ${kind}.`;
    box.replaceChildren(p);
    return;
  }
  const cols = columnsOf(items);
  const table = document.createElement('table');
  table.className = 'data compact';
  const head = table.createTHead().insertRow();
  for (const c of [...cols, '']) head.append(Object.assign(document.createElement('th'), { textContent: c }));
  const body = table.createTBody();
  for (const it of items) {
    const row = body.insertRow();
    row.dataset.testid = `${kind}-row`;
    for (const c of cols) row.insertCell().textContent = text(it[c]);
    row.append(actions(kind, url, it));
  }
  const wrap = document.createElement('div');
  wrap.className = 'table-wrap';
  wrap.append(table);
  box.replaceChildren(wrap);
}

function fillAll() {
  for (const box of document.querySelectorAll('[data-list]')) fill(/** @type {HTMLElement} */ (box));
}

/**
 * The URL a group-configuration form saves to: its template with `{group}`
 * replaced by the form's group field, when it has one.
 * @param {string} template
 * @param {string | null} group
 * @returns {string}
 */
export function groupConfigUrl(template, group) {
  return group === null ? template : template.replace('{group}', encodeURIComponent(group.trim()));
}

/** Saves a group's configuration (the textarea's TOML) with PUT. */
async function saveGroupConfig(form) {
  const data = new FormData(form);
  const group = data.get('group');
  const url = groupConfigUrl(form.dataset.groupConfig ?? '', group === null ? null : String(group));
  try {
    const saved = await callApi('PUT', url, String(data.get('text') ?? ''), 'text/plain');
    flash(`Saved, version ${saved && saved.version}.`, true);
    window.location.reload();
  } catch (e) {
    flash(e instanceof Error ? e.message : String(e));
  }
}

if (typeof document !== 'undefined') {
  fillAll();
  document.addEventListener('hark:changed', fillAll);
  for (const form of document.querySelectorAll('form[data-group-config]')) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      saveGroupConfig(/** @type {HTMLFormElement} */ (form));
    });
  }
}
