import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  csvField,
  csvLine,
  cutText,
  eventFields,
  formatCount,
  formatTime,
  markTerms,
  oneLine,
  parseRfc3339,
  parseTerms,
  severityClass,
  severityLabel,
} from '../static/js/format.js';
import { exportUrl, searchParams, tailUrl } from '../static/js/api.js';

test('CSV fields are quoted when they hold commas, quotes or line breaks', () => {
  assert.equal(csvField('a,"b"\n'), '"a,""b""\n"');
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(null), '');
  assert.equal(csvField(7), '7');
  assert.equal(csvLine(['x', 'a,"b"\n', 3]), 'x,"a,""b""\n",3\r\n');
});

test('severity codes map to classes and names', () => {
  assert.equal(severityClass(0), 'sev-0');
  assert.equal(severityClass(7), 'sev-7');
  assert.equal(severityClass(8), 'sev-none');
  assert.equal(severityClass(null), 'sev-none');
  assert.equal(severityLabel({ severity_code: 3 }), 'err');
  assert.equal(severityLabel({ severity: 'warning', severity_code: 4 }), 'warning');
});

test('RFC 3339 with nanoseconds and offsets parses to milliseconds', () => {
  assert.equal(parseRfc3339('2027-01-15T08:00:00.123456789Z'), Date.UTC(2027, 0, 15, 8, 0, 0, 123));
  assert.equal(parseRfc3339('2027-01-15T10:00:00+02:00'), Date.UTC(2027, 0, 15, 8));
  assert.ok(Number.isNaN(parseRfc3339('yesterday')));
});

test('times are shown in the given zone with milliseconds', () => {
  const ts = '2027-01-15T08:00:00.123456789Z';
  assert.equal(formatTime(ts, 'UTC'), '2027-01-15 08:00:00.123');
  assert.equal(formatTime(ts, 'Asia/Kolkata'), '2027-01-15 13:30:00.123');
  assert.equal(formatTime(ts, 'America/Los_Angeles'), '2027-01-15 00:00:00.123');
  assert.equal(formatTime('not a time', 'UTC'), 'not a time');
});

test('long text is cut and flattened to one line', () => {
  const big = 'x'.repeat(1_000_000);
  assert.deepEqual(cutText('abc', 5), { text: 'abc', cut: false });
  const cut = cutText(big, 10);
  assert.equal(cut.text.length, 10);
  assert.equal(cut.cut, true);
  assert.equal(oneLine('a\nb\tc', 100), 'a b c');
  assert.equal(oneLine(big, 400).length, 401);
  assert.equal(formatCount(12345), '12\u202f345');
});

test('highlight terms are split and matched case-insensitively, regex characters literal', () => {
  assert.deepEqual(parseTerms(' err, , a.b '), ['err', 'a.b']);
  assert.deepEqual(markTerms('Error in a.b and axb', ['err', 'a.b']), [
    { text: 'Err', mark: true },
    { text: 'or in ', mark: false },
    { text: 'a.b', mark: true },
    { text: ' and axb', mark: false },
  ]);
  assert.deepEqual(markTerms('<b>', []), [{ text: '<b>', mark: false }]);
});

test('event fields list standard ones first, then extra fields by name', () => {
  const ev = {
    timestamp: 't',
    received_at: 'r',
    host: 'h',
    app: null,
    message: 'm',
    input: 'i',
    truncated: false,
    parse_error: false,
    fields: { zeta: 1, alpha: 'a' },
  };
  assert.deepEqual(eventFields(ev), [
    ['timestamp', 't'],
    ['received_at', 'r'],
    ['host', 'h'],
    ['message', 'm'],
    ['input', 'i'],
    ['alpha', 'a'],
    ['zeta', '1'],
  ]);
});

test('API URLs carry the query, the range and the options', () => {
  const p = searchParams({ q: 'a b', range: { since: '1h' }, limit: 100, histogram: true, top: ['host', 'app'], topSize: 11, order: 'asc' });
  assert.equal(p.toString(), 'q=a+b&since=1h&limit=100&histogram=auto&top=host%2Capp&top_size=11&order=asc');
  assert.equal(
    exportUrl('host:"x y"', { from: '2027-01-01T00:00:00.000Z', to: '2027-01-02T00:00:00.000Z' }, 'csv'),
    '/api/v1/export?q=host%3A%22x+y%22&from=2027-01-01T00%3A00%3A00.000Z&to=2027-01-02T00%3A00%3A00.000Z&format=csv',
  );
  assert.equal(tailUrl('app:sshd', 200), '/api/v1/tail?q=app%3Asshd&backlog=200');
});
