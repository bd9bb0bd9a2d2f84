// Formatting functions shared by the search and tail pages: time stamps,
// severities, counts, CSV, cutting long text and marking highlight terms.
// Pure functions but ensureStylesheet, which is handed the document; nothing
// touches the DOM at load, so node can import and test them.

/** Severity names by code, RFC 5424 order. */
export const SEVERITY_NAMES = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
];

/**
 * The CSS class of a severity code: `sev-0` … `sev-7`, or `sev-none`.
 * @param {number|null|undefined} code
 * @returns {string}
 */
export function severityClass(code) {
  return Number.isInteger(code) && code >= 0 && code <= 7 ? `sev-${code}` : 'sev-none';
}

/**
 * The name to show for an event's severity.
 * @param {{severity?: string|null, severity_code?: number|null}} ev
 * @returns {string}
 */
export function severityLabel(ev) {
  if (ev.severity) return ev.severity;
  const code = ev.severity_code;
  return Number.isInteger(code) && code >= 0 && code <= 7 ? SEVERITY_NAMES[code] : '';
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch of an RFC 3339 time stamp (any number of
 * fraction digits; digits past milliseconds are dropped), or NaN.
 * @param {string} text
 * @returns {number}
 */
export function parseRfc3339(text) {
  const m = RFC3339.exec(String(text ?? '').trim());
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    t -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60000;
  }
  return t;
}

/**
 * RFC 3339 in UTC with milliseconds, as the URL and the API take it.
 * @param {number} ms
 * @returns {string}
 */
export function toRfc3339(ms) {
  return new Date(ms).toISOString();
}

const timeFormats = new Map();

/**
 * @param {string|undefined} timeZone
 * @returns {Intl.DateTimeFormat}
 */
function timeFormat(timeZone) {
  const key = timeZone ?? '';
  let f = timeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    timeFormats.set(key, f);
  }
  return f;
}

/** The last whole second formatted per zone: many events share one. */
const lastSecond = new Map();

/**
 * An event time as `YYYY-MM-DD HH:MM:SS.mmm` in a time zone (the browser's
 * by default). Text that is not RFC 3339 is returned as it is.
 * @param {string} text RFC 3339 time stamp
 * @param {string} [timeZone] IANA zone, e.g. `UTC`
 * @returns {string}
 */
export function formatTime(text, timeZone) {
  const ms = parseRfc3339(text);
  if (Number.isNaN(ms)) return String(text ?? '');
  const millis = ((ms % 1000) + 1000) % 1000;
  const second = ms - millis;
  const key = timeZone ?? '';
  const cached = lastSecond.get(key);
  let head;
  if (cached && cached.second === second) {
    head = cached.head;
  } else {
    /** @type {Record<string, string>} */
    const p = {};
    for (const part of timeFormat(timeZone).formatToParts(new Date(ms))) p[part.type] = part.value;
    head = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
    lastSecond.set(key, { second, head });
  }
  return `${head}.${String(millis).padStart(3, '0')}`;
}

const counts = new Intl.NumberFormat('en-US');

/**
 * A count with thin grouping: `12 345`.
 * @param {number} n
 * @returns {string}
 */
export function formatCount(n) {
  return counts.format(n).replace(/,/g, '\u202f');
}

/**
 * Cuts text to at most `max` characters for display.
 * @param {string} text
 * @param {number} max
 * @returns {{text: string, cut: boolean}}
 */
export function cutText(text, max) {
  const s = String(text ?? '');
  if (s.length <= max) return { text: s, cut: false };
  return { text: s.slice(0, max), cut: true };
}

/**
 * The first line of a message, cut to `max` characters, for a one-line row.
 * @param {string} text
 * @param {number} max
 * @returns {string}
 */
export function oneLine(text, max) {
  const s = String(text ?? '');
  const head = s.length > max * 2 ? s.slice(0, max * 2) : s;
  const flat = head.replace(/[\r\n\t]+/g, ' ');
  return flat.length > max || head.length < s.length ? `${flat.slice(0, max)}…` : flat;
}

/**
 * One CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180).
 * @param {unknown} value
 * @returns {string}
 */
export function csvField(value) {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One CSV line (with CRLF) of fields.
 * @param {unknown[]} fields
 * @returns {string}
 */
export function csvLine(fields) {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/**
 * Splits comma-separated highlight terms; blanks are dropped.
 * @param {string} text
 * @returns {string[]}
 */
export function parseTerms(text) {
  return String(text ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** @type {{key: string, pattern: RegExp|null}} the last terms' pattern */
let lastPattern = { key: '', pattern: null };

/**
 * One case-insensitive pattern matching any of the terms (longest first),
 * their regular expression characters taken literally; null for none.
 * @param {string[]} terms
 * @returns {RegExp|null}
 */
function termPattern(terms) {
  const live = terms.filter((t) => t.length > 0);
  const key = JSON.stringify(live);
  if (key === lastPattern.key) return lastPattern.pattern;
  const pattern =
    live.length === 0
      ? null
      : new RegExp(
          live
            .slice()
            .sort((a, b) => b.length - a.length)
            .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('|'),
          'gi',
        );
  lastPattern = { key, pattern };
  return pattern;
}

/**
 * Splits text into pieces, marking the case-insensitive matches of any
 * term, for building `<mark>` elements with textContent.
 * @param {string} text
 * @param {string[]} terms
 * @returns {{text: string, mark: boolean}[]}
 */
export function markTerms(text, terms) {
  const s = String(text ?? '');
  const pattern = termPattern(terms);
  if (pattern === null || s.length === 0) return [{ text: s, mark: false }];
  /** @type {{text: string, mark: boolean}[]} */
  const out = [];
  let last = 0;
  for (const m of s.matchAll(pattern)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: s.slice(last, at), mark: false });
    out.push({ text: m[0], mark: true });
    last = at + m[0].length;
  }
  if (last < s.length) out.push({ text: s.slice(last), mark: false });
  return out;
}

/** Top-level field names every event has, in the order they are shown. */
export const EVENT_FIELDS = [
  'timestamp',
  'received_at',
  'host',
  'app',
  'procid',
  'msgid',
  'facility',
  'severity',
  'severity_code',
  'message',
  'source',
  'input',
];

/**
 * Every field of an event as `[name, value]` pairs, standard ones first,
 * then `fields.*` by name. Null values are left out.
 * @param {Record<string, any>} ev
 * @returns {[string, string][]}
 */
export function eventFields(ev) {
  const names = [...EVENT_FIELDS, 'truncated', 'parse_error', 'parse_error_reason'];
  /** @type {[string, string][]} */
  const out = [];
  for (const n of names) {
    const v = ev[n];
    if (v === null || v === undefined) continue;
    if ((n === 'truncated' || n === 'parse_error') && v === false) continue;
    out.push([n, String(v)]);
  }
  const extra = ev.fields && typeof ev.fields === 'object' ? ev.fields : {};
  for (const n of Object.keys(extra).sort()) {
    const v = extra[n];
    if (v === null || v === undefined) continue;
    out.push([n, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  }
  return out;
}

/**
 * Adds the pages' stylesheet (css/search.css beside this module's folder)
 * to the document unless a `<link>` to it is there already.
 * @param {Document} doc
 */
export function ensureStylesheet(doc) {
  const href = new URL('../css/search.css', import.meta.url).href;
  for (const link of doc.querySelectorAll('link[rel="stylesheet"]')) {
    if (/** @type {HTMLLinkElement} */ (link).href === href) return;
  }
  const link = doc.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  doc.head.append(link);
}
