// The query language as the search bar sees it: a tokenizer (for
// completion and for finding filters already in the query), completion of
// field names and values, and adding or removing `field:value` filters.
// Pure functions; the server's parser stays the judge of what is valid.

import { EVENT_FIELDS } from './format.js';

/** Field names every event has, offered before the ones the server reports. */
export const FIXED_FIELDS = EVENT_FIELDS;

/** The forms of the query language, for the syntax help. */
export const SYNTAX_HELP = [
  ['field:value', 'host:fw1'],
  ['field:"phrase"', 'message:"connection refused"'],
  ['-field:value or NOT', '-app:cron, NOT severity:debug'],
  ['AND / OR, parentheses', '(app:sshd OR app:sudo) AND host:web1'],
  ['wildcards', 'app:ssh*'],
  ['ranges', 'severity_code:[0 TO 3]'],
  ['bare words search the message', 'timeout'],
];

/**
 * @typedef {object} Token
 * @property {'field'|'term'|'phrase'|'and'|'or'|'not'|'lparen'|'rparen'} type
 * @property {string} text   the token as written
 * @property {number} start  offset of its first character
 * @property {number} end    offset after its last character
 * @property {boolean} negated  written with a leading `-`
 * @property {string} [field]   for `field:…`
 * @property {string} [value]   the value, unquoted and unescaped
 * @property {boolean} [quoted]  the value was a quoted phrase
 * @property {boolean} [range]   the value was `[a TO b]` or `{a TO b}`
 * @property {boolean} [unterminated] a quote or bracket was not closed
 */

/**
 * Reads a quoted phrase starting at `i` (on the quote).
 * @param {string} q
 * @param {number} i
 * @returns {{end: number, value: string, closed: boolean}}
 */
function readPhrase(q, i) {
  let value = '';
  let j = i + 1;
  while (j < q.length) {
    const c = q[j];
    if (c === '\\' && j + 1 < q.length) {
      value += q[j + 1];
      j += 2;
    } else if (c === '"') {
      return { end: j + 1, value, closed: true };
    } else {
      value += c;
      j += 1;
    }
  }
  return { end: j, value, closed: false };
}

/**
 * Reads a range `[a TO b]` / `{a TO b}` starting at `i` (on the bracket).
 * @param {string} q
 * @param {number} i
 * @returns {{end: number, closed: boolean}}
 */
function readRange(q, i) {
  let j = i + 1;
  while (j < q.length && q[j] !== ']' && q[j] !== '}') j += 1;
  return j < q.length ? { end: j + 1, closed: true } : { end: j, closed: false };
}

/**
 * Reads a bare word starting at `i`: up to whitespace or a parenthesis.
 * @param {string} q
 * @param {number} i
 * @returns {number} its end
 */
function readWord(q, i) {
  let j = i;
  while (j < q.length && !/[\s()]/.test(q[j])) {
    if (q[j] === '\\' && j + 1 < q.length) j += 1;
    j += 1;
  }
  return j;
}

/**
 * Splits query text into tokens. Never throws: unclosed quotes and ranges
 * give a token marked `unterminated`.
 * @param {string} q
 * @returns {Token[]}
 */
export function tokenize(q) {
  /** @type {Token[]} */
  const out = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({
        type: c === '(' ? 'lparen' : 'rparen',
        text: c,
        start: i,
        end: i + 1,
        negated: false,
      });
      i += 1;
      continue;
    }
    const start = i;
    const negated = (c === '-' || c === '+') && i + 1 < q.length && !/[\s]/.test(q[i + 1]);
    const negMark = c === '-' && negated;
    if (negated) i += 1;
    if (q[i] === '"') {
      const p = readPhrase(q, i);
      out.push({
        type: 'phrase',
        text: q.slice(start, p.end),
        start,
        end: p.end,
        negated: negMark,
        value: p.value,
        quoted: true,
        ...(p.closed ? {} : { unterminated: true }),
      });
      i = p.end;
      continue;
    }
    // A field name runs up to an unescaped colon, if one comes before the word ends.
    const wordEnd = readWord(q, i);
    const colon = q.slice(i, wordEnd).search(/(?<!\\):/);
    if (colon > 0) {
      const field = q.slice(i, i + colon);
      const v = i + colon + 1;
      /** @type {Token} */
      let tok;
      if (q[v] === '"') {
        const p = readPhrase(q, v);
        tok = {
          type: 'field',
          text: q.slice(start, p.end),
          start,
          end: p.end,
          negated: negMark,
          field,
          value: p.value,
          quoted: true,
          ...(p.closed ? {} : { unterminated: true }),
        };
      } else if (q[v] === '[' || q[v] === '{') {
        const r = readRange(q, v);
        tok = {
          type: 'field',
          text: q.slice(start, r.end),
          start,
          end: r.end,
          negated: negMark,
          field,
          value: q.slice(v, r.end),
          range: true,
          ...(r.closed ? {} : { unterminated: true }),
        };
      } else {
        const e = readWord(q, v);
        tok = {
          type: 'field',
          text: q.slice(start, e),
          start,
          end: e,
          negated: negMark,
          field,
          value: q.slice(v, e).replace(/\\(.)/g, '$1'),
        };
      }
      out.push(tok);
      i = tok.end;
      continue;
    }
    const text = q.slice(start, wordEnd);
    const word = q.slice(i, wordEnd);
    if (!negated && (word === 'AND' || word === '&&')) {
      out.push({ type: 'and', text, start, end: wordEnd, negated: false });
    } else if (!negated && (word === 'OR' || word === '||')) {
      out.push({ type: 'or', text, start, end: wordEnd, negated: false });
    } else if (!negated && (word === 'NOT' || word === '!')) {
      out.push({ type: 'not', text, start, end: wordEnd, negated: false });
    } else {
      out.push({
        type: 'term',
        text,
        start,
        end: wordEnd,
        negated: negMark,
        value: word.replace(/\\(.)/g, '$1'),
      });
    }
    i = wordEnd;
  }
  return out;
}

/**
 * A value as the query language needs it written: bare when it is a plain
 * word, otherwise a quoted phrase with `"` and `\` escaped.
 * @param {string} value
 * @returns {string}
 */
export function quoteValue(value) {
  const s = String(value);
  if (/^[A-Za-z0-9_.@/-]+$/.test(s) && !/^(AND|OR|NOT|TO)$/.test(s) && !s.startsWith('-')) return s;
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * A `field:value` filter, negated with `-` when asked.
 * @param {string} field
 * @param {string} value
 * @param {boolean} [negate]
 * @returns {string}
 */
export function filterText(field, value, negate = false) {
  return `${negate ? '-' : ''}${field}:${quoteValue(value)}`;
}

/**
 * Whether the query, at its top level, already filters on `field:value`:
 * `include`, `exclude` (`-field:value`, or `NOT field:value`), or null.
 * @param {string} q
 * @param {string} field
 * @param {string} value
 * @returns {'include'|'exclude'|null}
 */
export function filterState(q, field, value) {
  const hit = topLevelFilters(q).find((f) => f.field === field && f.value === value);
  return hit ? (hit.negated ? 'exclude' : 'include') : null;
}

/**
 * The top-level `field:value` tokens of a query, with a preceding `NOT`
 * folded in as negation (their span then starts at the `NOT`).
 * @param {string} q
 * @returns {Token[]}
 */
function topLevelFilters(q) {
  const toks = tokenize(q);
  /** @type {Token[]} */
  const out = [];
  let depth = 0;
  for (let i = 0; i < toks.length; i += 1) {
    const t = toks[i];
    if (t.type === 'lparen') depth += 1;
    else if (t.type === 'rparen') depth = Math.max(0, depth - 1);
    else if (depth === 0 && t.type === 'field' && !t.range) {
      const prev = toks[i - 1];
      if (prev && prev.type === 'not') {
        out.push({ ...t, start: prev.start, negated: !t.negated });
      } else {
        out.push(t);
      }
    }
  }
  return out;
}

/**
 * Whether a query has `OR` outside parentheses (so that appending a filter
 * needs the rest wrapped).
 * @param {string} q
 * @returns {boolean}
 */
function hasTopLevelOr(q) {
  let depth = 0;
  for (const t of tokenize(q)) {
    if (t.type === 'lparen') depth += 1;
    else if (t.type === 'rparen') depth = Math.max(0, depth - 1);
    else if (t.type === 'or' && depth === 0) return true;
  }
  return false;
}

/**
 * The query with `field:value` included or excluded: any top-level filter
 * on the same field and value is removed first, and the new one appended
 * (terms are joined by AND by default). `mode` null just removes it.
 * @param {string} q
 * @param {string} field
 * @param {string} value
 * @param {'include'|'exclude'|null} mode
 * @returns {string}
 */
export function setFilter(q, field, value, mode) {
  let text = q;
  const found = topLevelFilters(q)
    .filter((f) => f.field === field && f.value === value)
    .sort((a, b) => b.start - a.start);
  for (const f of found) {
    let start = f.start;
    let end = f.end;
    // Take a joining AND with it, the one before or else the one after.
    const before = text.slice(0, start);
    const after = text.slice(end);
    const andBefore = /\s*\bAND\s*$/.exec(before);
    const andAfter = /^\s*AND\b\s*/.exec(after);
    if (andBefore) start -= andBefore[0].length;
    else if (andAfter) end += andAfter[0].length;
    text = `${text.slice(0, start)} ${text.slice(end)}`;
  }
  text = text.replace(/\s+/g, ' ').trim();
  if (mode === null) return text;
  const filter = filterText(field, value, mode === 'exclude');
  if (text === '' || text === '*') return filter;
  return hasTopLevelOr(text) ? `(${text}) ${filter}` : `${text} ${filter}`;
}

/**
 * @typedef {object} Completion
 * @property {number} start  offset where the replaced text starts
 * @property {number} end    offset where it ends
 * @property {{label: string, insert: string, kind: 'field'|'value', count?: number}[]} items
 */

/**
 * What may complete the word at the caret: field names (for `ho` →
 * `host:`), or values of a field (for `host:fw` → `host:fw1`) from the top
 * values already loaded. The leading `-` of a word is kept.
 * @param {string} q
 * @param {number} caret
 * @param {{fields: string[], values?: Record<string, {value: string, count: number}[]>, max?: number}} known
 * @returns {Completion}
 */
export function complete(q, caret, known) {
  const max = known.max ?? 12;
  let start = caret;
  while (start > 0 && !/[\s()]/.test(q[start - 1])) start -= 1;
  // Inside an open phrase (`host:"a b`), step back over the space too.
  const before = q.slice(0, caret);
  const openQuote = (before.match(/(?<!\\)"/g) ?? []).length % 2 === 1;
  if (openQuote) {
    const quoteAt = before.lastIndexOf('"');
    start = quoteAt;
    while (start > 0 && !/[\s()]/.test(q[start - 1])) start -= 1;
  }
  let end = caret;
  while (end < q.length && !/[\s()]/.test(q[end])) end += 1;
  const word = q.slice(start, caret);
  const sign = word.startsWith('-') ? '-' : '';
  const body = word.slice(sign.length);
  const colon = body.indexOf(':');
  /** @type {Completion['items']} */
  const items = [];
  if (colon < 0) {
    if (body === '' || /^(AND|OR|NOT)$/.test(body)) return { start, end, items };
    const prefix = body.toLowerCase();
    const seen = new Set();
    for (const f of known.fields) {
      if (seen.has(f)) continue;
      seen.add(f);
      if (f.toLowerCase().startsWith(prefix) && f !== body) {
        items.push({ label: f, insert: `${sign}${f}:`, kind: 'field' });
      }
      if (items.length >= max) break;
    }
    return { start, end, items };
  }
  const field = body.slice(0, colon);
  const prefix = body.slice(colon + 1).replace(/^"/, '').replace(/\\(.)/g, '$1').toLowerCase();
  for (const v of known.values?.[field] ?? []) {
    if (String(v.value).toLowerCase().startsWith(prefix)) {
      items.push({
        label: String(v.value),
        insert: `${sign}${field}:${quoteValue(String(v.value))}`,
        kind: 'value',
        count: v.count,
      });
    }
    if (items.length >= max) break;
  }
  return { start, end, items };
}

/**
 * Applies a completion item: the query text and where the caret goes.
 * @param {string} q
 * @param {Completion} c
 * @param {{insert: string, kind: string}} item
 * @returns {{q: string, caret: number}}
 */
export function applyCompletion(q, c, item) {
  const tail = q.slice(c.end);
  const sep = item.kind === 'value' && !/^\s/.test(tail) ? ' ' : '';
  const text = `${q.slice(0, c.start)}${item.insert}${sep}${tail}`;
  return { q: text, caret: c.start + item.insert.length + sep.length };
}

/**
 * The field names a search page knows: the fixed ones, then the server's
 * and those seen in loaded events, without repeats.
 * @param {...Iterable<string>} lists
 * @returns {string[]}
 */
export function mergeFieldNames(...lists) {
  const out = [];
  const seen = new Set();
  for (const list of [FIXED_FIELDS, ...lists]) {
    for (const f of list) {
      const name = f.startsWith('fields.') ? f.slice(7) : f;
      if (!seen.has(name)) {
        seen.add(name);
        out.push(name);
      }
    }
  }
  return out;
}
