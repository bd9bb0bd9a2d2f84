// Time ranges of the search page and the page's URL: relative (`since`)
// or absolute (`from`/`to`, UTC RFC 3339), `datetime-local` values in a
// time zone, and the query string / hash round trip. Pure functions.

import { parseRfc3339, toRfc3339 } from './format.js';

/** Relative presets offered by the picker. */
export const PRESETS = ['5m', '15m', '1h', '4h', '24h', '7d', '30d'];

/** The range a page starts with when the URL names none. */
export const DEFAULT_SINCE = '15m';

const UNIT_MS = { s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000 };

/**
 * @typedef {{since: string} | {from: string, to: string}} TimeRange
 * `since` is a duration like `15m`; `from`/`to` are UTC RFC 3339.
 */

/**
 * Milliseconds of a duration like `15m`, `24h`, `7d`, `90s`; NaN if invalid.
 * @param {string} text
 * @returns {number}
 */
export function parseDuration(text) {
  const m = /^(\d+)\s*([smhdw])$/.exec(String(text ?? '').trim());
  if (!m) return NaN;
  return Number(m[1]) * UNIT_MS[/** @type {keyof typeof UNIT_MS} */ (m[2])];
}

/**
 * The absolute bounds of a range at `now`, in milliseconds.
 * @param {TimeRange} range
 * @param {number} now
 * @returns {{fromMs: number, toMs: number}}
 */
export function resolveRange(range, now) {
  if ('since' in range) return { fromMs: now - parseDuration(range.since), toMs: now };
  return { fromMs: parseRfc3339(range.from), toMs: parseRfc3339(range.to) };
}

/**
 * An absolute range between two instants, earliest first.
 * @param {number} aMs
 * @param {number} bMs
 * @returns {TimeRange}
 */
export function absoluteRange(aMs, bMs) {
  const lo = Math.min(aMs, bMs);
  const hi = Math.max(aMs, bMs);
  return { from: toRfc3339(lo), to: toRfc3339(hi) };
}

/**
 * The range in a query string, or null when it names none or an invalid one.
 * @param {URLSearchParams} params
 * @returns {TimeRange|null}
 */
export function rangeFromParams(params) {
  const from = params.get('from');
  const to = params.get('to');
  if (from && to && !Number.isNaN(parseRfc3339(from)) && !Number.isNaN(parseRfc3339(to))) {
    return { from: toRfc3339(parseRfc3339(from)), to: toRfc3339(parseRfc3339(to)) };
  }
  const since = params.get('since');
  if (since && !Number.isNaN(parseDuration(since))) return { since };
  return null;
}

/**
 * Writes a range into query parameters (replacing any range there).
 * @param {URLSearchParams} params
 * @param {TimeRange} range
 */
export function rangeToParams(params, range) {
  params.delete('from');
  params.delete('to');
  params.delete('since');
  if ('since' in range) {
    params.set('since', range.since);
  } else {
    params.set('from', range.from);
    params.set('to', range.to);
  }
}

/**
 * Minutes east of UTC of the browser's zone at an instant.
 * @param {number} ms
 * @returns {number}
 */
export function localOffsetMinutes(ms) {
  return -new Date(ms).getTimezoneOffset();
}

/**
 * The `datetime-local` value (`YYYY-MM-DDTHH:MM:SS`) of an instant in a zone
 * given by its offset in minutes east of UTC (the browser's by default).
 * @param {number} ms
 * @param {number} [offsetMinutes]
 * @returns {string}
 */
export function toDatetimeLocal(ms, offsetMinutes) {
  const off = offsetMinutes ?? localOffsetMinutes(ms);
  return new Date(ms + off * 60000).toISOString().slice(0, 19);
}

/**
 * The instant of a `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS[.mmm]]`) in
 * a zone given by its offset in minutes east of UTC; without one, the
 * browser's zone including its daylight saving rules. NaN if invalid.
 * @param {string} value
 * @param {number} [offsetMinutes]
 * @returns {number}
 */
export function fromDatetimeLocal(value, offsetMinutes) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(
    String(value ?? ''),
  );
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const fracMs = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (offsetMinutes === undefined) return new Date(y, mo - 1, d, h, mi, s, fracMs).getTime();
  return Date.UTC(y, mo - 1, d, h, mi, s, fracMs) - offsetMinutes * 60000;
}

/**
 * A short label of a range for headings: `last 15m` or the two ends.
 * @param {TimeRange} range
 * @param {(ms: number) => string} show formats an instant
 * @returns {string}
 */
export function rangeLabel(range, show) {
  if ('since' in range) return `last ${range.since}`;
  return `${show(parseRfc3339(range.from))} – ${show(parseRfc3339(range.to))}`;
}

/**
 * @typedef {object} PageState
 * @property {string} q
 * @property {TimeRange} range
 * @property {string|null} hit  `<timestamp>|<host>` of the selected event
 */

/**
 * The search page's state from its URL's query string and hash.
 * @param {string} search e.g. `?q=host:a&since=1h`
 * @param {string} hash e.g. `#hit=2027-01-01T00:00:00Z|fw1`
 * @returns {PageState}
 */
export function stateFromUrl(search, hash) {
  const params = new URLSearchParams(search);
  const h = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  return {
    q: params.get('q') ?? '',
    range: rangeFromParams(params) ?? { since: DEFAULT_SINCE },
    hit: h.get('hit') || null,
  };
}

/**
 * The query string and hash of a page state (the inverse of stateFromUrl).
 * @param {PageState} state
 * @returns {{search: string, hash: string}}
 */
export function stateToUrl(state) {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  rangeToParams(params, state.range);
  const hash = state.hit ? `#${new URLSearchParams({ hit: state.hit }).toString()}` : '';
  return { search: `?${params.toString()}`, hash };
}
