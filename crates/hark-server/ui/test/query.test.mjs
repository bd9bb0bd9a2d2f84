import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyCompletion,
  complete,
  filterState,
  mergeFieldNames,
  quoteValue,
  setFilter,
  tokenize,
} from '../static/js/query.js';

const shape = (toks) => toks.map((t) => [t.type, t.field ?? null, t.value ?? t.text, t.negated]);

test('tokenizes fields, operators, negated phrases and bare words', () => {
  const q = 'host:fw1 AND -app:"ssh d" msg';
  const toks = tokenize(q);
  assert.deepEqual(shape(toks), [
    ['field', 'host', 'fw1', false],
    ['and', null, 'AND', false],
    ['field', 'app', 'ssh d', true],
    ['term', null, 'msg', false],
  ]);
  // Offsets point back into the text.
  assert.equal(q.slice(toks[2].start, toks[2].end), '-app:"ssh d"');
});

test('tokenizes parentheses, NOT, ranges, wildcards and escaped quotes', () => {
  const toks = tokenize('(app:ssh* OR NOT severity_code:[0 TO 3]) message:"say \\"hi\\""');
  assert.deepEqual(shape(toks), [
    ['lparen', null, '(', false],
    ['field', 'app', 'ssh*', false],
    ['or', null, 'OR', false],
    ['not', null, 'NOT', false],
    ['field', 'severity_code', '[0 TO 3]', false],
    ['rparen', null, ')', false],
    ['field', 'message', 'say "hi"', false],
  ]);
  assert.equal(toks[4].range, true);
});

test('an unclosed quote is a token marked unterminated, not an error', () => {
  const toks = tokenize('host:"fw 1');
  assert.equal(toks.length, 1);
  assert.equal(toks[0].unterminated, true);
  assert.equal(toks[0].value, 'fw 1');
});

test('completion offers host for ho, keeping a leading minus', () => {
  const fields = mergeFieldNames(['user']);
  const c = complete('ho', 2, { fields });
  assert.deepEqual(c.items.map((i) => i.insert), ['host:']);
  assert.deepEqual(applyCompletion('ho', c, c.items[0]), { q: 'host:', caret: 5 });

  const neg = complete('app:x -ho', 9, { fields });
  assert.deepEqual(neg.items.map((i) => i.insert), ['-host:']);
  assert.equal(applyCompletion('app:x -ho', neg, neg.items[0]).q, 'app:x -host:');
});

test('completion of values comes from loaded top values, quoted when needed', () => {
  const values = {
    host: [
      { value: 'fw1', count: 10 },
      { value: 'fw 2', count: 4 },
      { value: 'web1', count: 3 },
    ],
  };
  const q = 'app:sshd host:fw';
  const c = complete(q, q.length, { fields: mergeFieldNames(), values });
  assert.deepEqual(c.items.map((i) => i.insert), ['host:fw1', 'host:"fw 2"']);
  assert.equal(c.items[0].count, 10);
  const r = applyCompletion(q, c, c.items[1]);
  assert.equal(r.q, 'app:sshd host:"fw 2" ');
  assert.equal(r.caret, r.q.length);
});

test('completion in the middle of a query replaces only the word at the caret', () => {
  const q = 'sev AND host:a';
  const c = complete(q, 3, { fields: mergeFieldNames() });
  assert.deepEqual(c.items.map((i) => i.label), ['severity', 'severity_code']);
  assert.equal(applyCompletion(q, c, c.items[0]).q, 'severity: AND host:a');
});

test('fields from the server are merged without the fields. prefix or repeats', () => {
  const names = mergeFieldNames(['fields.user', 'host', 'status']);
  assert.equal(names.filter((n) => n === 'host').length, 1);
  assert.ok(names.includes('user'));
  assert.ok(names.includes('status'));
});

test('values are quoted unless they are plain words', () => {
  assert.equal(quoteValue('fw1'), 'fw1');
  assert.equal(quoteValue('10.0.0.1'), '10.0.0.1');
  assert.equal(quoteValue('a b'), '"a b"');
  assert.equal(quoteValue('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quoteValue('OR'), '"OR"');
  assert.equal(quoteValue('x:y'), '"x:y"');
  assert.equal(quoteValue('ssh*'), '"ssh*"');
});

test('filters are added, switched to exclusion, and removed', () => {
  let q = '';
  q = setFilter(q, 'host', 'fw1', 'include');
  assert.equal(q, 'host:fw1');
  assert.equal(filterState(q, 'host', 'fw1'), 'include');
  q = setFilter(q, 'app', 'ssh d', 'include');
  assert.equal(q, 'host:fw1 app:"ssh d"');
  q = setFilter(q, 'host', 'fw1', 'exclude');
  assert.equal(q, 'app:"ssh d" -host:fw1');
  assert.equal(filterState(q, 'host', 'fw1'), 'exclude');
  q = setFilter(q, 'host', 'fw1', null);
  assert.equal(q, 'app:"ssh d"');
  assert.equal(filterState(q, 'host', 'fw1'), null);
});

test('a filter joined by AND is removed with its AND; NOT counts as exclusion', () => {
  assert.equal(setFilter('error AND host:a AND app:b', 'host', 'a', null), 'error AND app:b');
  assert.equal(filterState('NOT host:a', 'host', 'a'), 'exclude');
  assert.equal(setFilter('NOT host:a timeout', 'host', 'a', 'include'), 'timeout host:a');
});

test('a query with a top-level OR is wrapped before a filter is added', () => {
  assert.equal(setFilter('a OR b', 'host', 'x', 'include'), '(a OR b) host:x');
  assert.equal(setFilter('(a OR b) c', 'host', 'x', 'include'), '(a OR b) c host:x');
  // Filters inside parentheses are not the top-level filter.
  assert.equal(filterState('(host:x OR host:y)', 'host', 'x'), null);
});
