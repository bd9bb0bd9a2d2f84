import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  absoluteRange,
  fromDatetimeLocal,
  parseDuration,
  rangeFromParams,
  resolveRange,
  stateFromUrl,
  stateToUrl,
  toDatetimeLocal,
} from '../static/js/timerange.js';

test('durations of the presets', () => {
  assert.equal(parseDuration('5m'), 5 * 60000);
  assert.equal(parseDuration('24h'), 86400000);
  assert.equal(parseDuration('30d'), 30 * 86400000);
  assert.ok(Number.isNaN(parseDuration('5 minutes')));
  assert.ok(Number.isNaN(parseDuration('')));
});

test('a relative range resolves against now', () => {
  const now = Date.UTC(2027, 0, 15, 12, 0, 0);
  assert.deepEqual(resolveRange({ since: '1h' }, now), { fromMs: now - 3600000, toMs: now });
});

test('datetime-local values round trip in two time zones given by their offsets', () => {
  const instant = Date.UTC(2027, 0, 15, 8, 30, 15);
  // UTC+05:30 (India) and UTC-08:00 (US Pacific in winter).
  assert.equal(toDatetimeLocal(instant, 330), '2027-01-15T14:00:15');
  assert.equal(toDatetimeLocal(instant, -480), '2027-01-15T00:30:15');
  assert.equal(fromDatetimeLocal('2027-01-15T14:00:15', 330), instant);
  assert.equal(fromDatetimeLocal('2027-01-15T00:30:15', -480), instant);
  // Browsers may omit seconds.
  assert.equal(fromDatetimeLocal('2027-01-15T14:00', 330), instant - 15000);
  assert.ok(Number.isNaN(fromDatetimeLocal('15/01/2027 14:00', 330)));
});

test('a range picked in a local zone goes into the URL in UTC and comes back the same', () => {
  for (const offset of [330, -480]) {
    const from = fromDatetimeLocal('2027-03-01T09:00:00', offset);
    const to = fromDatetimeLocal('2027-03-01T17:45:30', offset);
    const range = absoluteRange(to, from);
    const url = stateToUrl({ q: 'host:fw1 AND -app:"ssh d"', range, hit: null });
    const params = new URLSearchParams(url.search);
    assert.match(params.get('from'), /Z$/);
    const back = stateFromUrl(url.search, url.hash);
    assert.deepEqual(back, { q: 'host:fw1 AND -app:"ssh d"', range, hit: null });
    assert.equal(toDatetimeLocal(Date.parse(back.range.from), offset), '2027-03-01T09:00:00');
    assert.equal(toDatetimeLocal(Date.parse(back.range.to), offset), '2027-03-01T17:45:30');
  }
  const west = absoluteRange(fromDatetimeLocal('2027-03-01T09:00:00', -480), 0);
  assert.equal(west.to, '2027-03-01T17:00:00.000Z');
});

test('since and the selected hit round trip through the URL', () => {
  const state = { q: '', range: { since: '4h' }, hit: '2027-01-15T08:00:00.123456789Z|fw 1' };
  const url = stateToUrl(state);
  assert.equal(url.search, '?since=4h');
  assert.deepEqual(stateFromUrl(url.search, url.hash), state);
});

test('URLs without a valid range fall back to the default', () => {
  assert.deepEqual(stateFromUrl('?q=x&since=forever', ''), { q: 'x', range: { since: '15m' }, hit: null });
  assert.equal(rangeFromParams(new URLSearchParams('from=2027-01-01T00:00:00Z')), null);
  // Offsets in the URL are normalised to UTC.
  assert.deepEqual(
    rangeFromParams(new URLSearchParams('from=2027-01-01T05:30:00%2B05:30&to=2027-01-01T01:00:00Z')),
    { from: '2027-01-01T00:00:00.000Z', to: '2027-01-01T01:00:00.000Z' },
  );
});
