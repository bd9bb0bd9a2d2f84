// Calls to Hark's HTTP API from the pages (same origin, the session cookie
// authenticates) and the display of their errors. The URL builders are pure;
// the fetch wrappers use `fetch` only when called.

import { rangeToParams } from './timerange.js';

/** An answer of the API that was not a success, with the server's text. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 for a network failure
   * @param {string} message the server's `error` text, or a description
   * @param {number|null} [position] byte offset in the query, when known
   */
  constructor(status, message, position = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.position = position;
  }
}

/**
 * @typedef {object} SearchParams
 * @property {string} q
 * @property {import('./timerange.js').TimeRange} [range]
 * @property {number} [limit]
 * @property {string|null} [cursor]
 * @property {boolean} [histogram]
 * @property {string[]} [top]
 * @property {number} [topSize]
 * @property {'desc'|'asc'} [order]
 */

/**
 * The query string of a search or export.
 * @param {SearchParams} p
 * @returns {URLSearchParams}
 */
export function searchParams(p) {
  const params = new URLSearchParams();
  params.set('q', p.q ?? '');
  if (p.range) rangeToParams(params, p.range);
  if (p.limit !== undefined) params.set('limit', String(p.limit));
  if (p.cursor) params.set('cursor', p.cursor);
  if (p.histogram) params.set('histogram', 'auto');
  if (p.top && p.top.length > 0) params.set('top', p.top.join(','));
  if (p.topSize !== undefined) params.set('top_size', String(p.topSize));
  if (p.order && p.order !== 'desc') params.set('order', p.order);
  return params;
}

/**
 * The URL that downloads the whole result of a search.
 * @param {string} q
 * @param {import('./timerange.js').TimeRange} range
 * @param {'csv'|'ndjson'} format
 * @returns {string}
 */
export function exportUrl(q, range, format) {
  const params = searchParams({ q, range });
  params.set('format', format);
  return `/api/v1/export?${params.toString()}`;
}

/**
 * The URL of the live tail of a query.
 * @param {string} q
 * @param {number} backlog
 * @returns {string}
 */
export function tailUrl(q, backlog) {
  const params = new URLSearchParams({ q, backlog: String(backlog) });
  return `/api/v1/tail?${params.toString()}`;
}

/**
 * Reads an error answer's text.
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function errorOf(res) {
  let message = `${res.status} ${res.statusText}`.trim();
  let position = null;
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text);
      if (body && typeof body.error === 'string') message = body.error;
      if (body && Number.isInteger(body.position)) position = body.position;
    } catch {
      if (text.trim()) message = `${message}: ${text.trim().slice(0, 300)}`;
    }
  } catch {
    // The body could not be read; the status line says enough.
  }
  if (res.status === 401) message = `${message} (signed out? reload the page to sign in again)`;
  return new ApiError(res.status, message, position);
}

/**
 * Sends a request and reads a JSON answer; throws ApiError otherwise.
 * @param {string} url
 * @param {RequestInit} [init]
 * @returns {Promise<any>}
 */
export async function requestJson(url, init = {}) {
  let res;
  try {
    res = await fetch(url, {
      credentials: 'same-origin',
      ...init,
      headers: { Accept: 'application/json', ...(init.headers ?? {}) },
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, `the server could not be reached (${e instanceof Error ? e.message : e})`);
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return null;
  try {
    return await res.json();
  } catch {
    throw new ApiError(res.status, 'the server sent an answer that is not JSON');
  }
}

/**
 * Runs a search.
 * @param {SearchParams} p
 * @param {AbortSignal} [signal]
 * @returns {Promise<{total: number, hits: any[], next: string|null, took_ms: number, histogram?: {start: string, count: number}[], top?: Record<string, {value: string, count: number}[]>}>}
 */
export function search(p, signal) {
  return requestJson(`/api/v1/search?${searchParams(p).toString()}`, { signal });
}

/**
 * Field names seen lately; null when the server has no such route.
 * @param {string} since
 * @returns {Promise<string[]|null>}
 */
export async function fieldNames(since) {
  try {
    const names = await requestJson(`/api/v1/fields?${new URLSearchParams({ since })}`);
    return Array.isArray(names) ? names.map(String) : null;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

/**
 * @typedef {{id: string|number, name: string, q: string, from?: string, to?: string, since?: string}} SavedSearch
 */

/**
 * The user's saved searches.
 * @returns {Promise<SavedSearch[]>}
 */
export async function listSavedSearches() {
  const list = await requestJson('/api/v1/saved-searches');
  return Array.isArray(list) ? list : [];
}

/**
 * Saves a search.
 * @param {{name: string, q: string, from?: string, to?: string, since?: string}} s
 * @returns {Promise<SavedSearch>}
 */
export function saveSearch(s) {
  return requestJson('/api/v1/saved-searches', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(s),
  });
}

/**
 * Deletes a saved search.
 * @param {string|number} id
 * @returns {Promise<void>}
 */
export async function deleteSavedSearch(id) {
  await requestJson(`/api/v1/saved-searches/${encodeURIComponent(String(id))}`, {
    method: 'DELETE',
  });
}

/**
 * Shows an error in an element (role=alert), or clears it with null.
 * @param {HTMLElement} el
 * @param {unknown} err
 * @param {string} [what] what was being done, e.g. `search`
 */
export function showError(el, err, what) {
  el.replaceChildren();
  if (err === null || err === undefined) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  const msg = err instanceof Error ? err.message : String(err);
  const status = err instanceof ApiError && err.status ? ` (HTTP ${err.status})` : '';
  const strong = document.createElement('strong');
  strong.textContent = what ? `${what} failed${status}: ` : `Error${status}: `;
  el.append(strong, document.createTextNode(msg));
}
