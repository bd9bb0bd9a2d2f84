import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contextByCount,
  contextBySeconds,
  hitKey,
  mergeContext,
  neighbourQuery,
  parseHitKey,
} from '../static/js/hits.js';
import {
  bucketWidthMs,
  bucketsToData,
  describeWidth,
  histogramNotes,
  selectionToRange,
} from '../static/js/histogram.js';
import { parseRfc3339 } from '../static/js/format.js';

test('hit keys round trip, hosts with | included', () => {
  const ev = { timestamp: '2027-01-15T08:00:00.000000001Z', host: 'a|b' };
  assert.deepEqual(parseHitKey(hitKey(ev)), ev);
  assert.deepEqual(parseHitKey(hitKey({ timestamp: 't', host: null })), { timestamp: 't', host: '' });
});

test('events around one: same host, N before (to) and after (from, ascending)', () => {
  const ev = { timestamp: '2027-01-15T08:00:00.5Z', host: 'fw 1', input: 'udp' };
  const { before, after } = contextByCount(ev, 10);
  assert.equal(before.toString(), 'q=host%3A%22fw+1%22&to=2027-01-15T08%3A00%3A00.5Z&limit=10');
  assert.equal(after.toString(), 'q=host%3A%22fw+1%22&from=2027-01-15T08%3A00%3A00.5Z&order=asc&limit=10');
  assert.equal(neighbourQuery({ host: null, input: 'udp' }), 'input:udp');
  const around = contextBySeconds(ev, 30, 500);
  assert.equal(around.get('from'), '2027-01-15T07:59:30.500Z');
  assert.equal(around.get('to'), '2027-01-15T08:00:30.501Z');
  assert.equal(around.get('order'), 'asc');
});

test('context lists are joined oldest first, repeats dropped, the event marked once', () => {
  const e = (t, m) => ({ timestamp: `2027-01-15T08:00:0${t}Z`, received_at: 'r', host: 'h', message: m });
  const self = e(5, 'me');
  const before = [self, e(4, 'd'), e(3, 'c')]; // newest first, as searched
  const after = [self, e(6, 'f'), e(7, 'g')];
  const rows = mergeContext(before, after, self);
  assert.deepEqual(rows.map((r) => r.event.message), ['c', 'd', 'me', 'f', 'g']);
  assert.deepEqual(rows.map((r) => r.self), [false, false, true, false, false]);
  // An event neither search returned is put where its time belongs.
  const lone = mergeContext([e(4, 'd')], [e(6, 'f')], e(5, 'x'));
  assert.deepEqual(lone.map((r) => [r.event.message, r.self]), [['d', false], ['x', true], ['f', false]]);
});

test('histogram buckets become seconds and counts; the width is described', () => {
  const data = bucketsToData(
    [
      { start: '2027-01-15T08:00:00.000000000Z', count: 3 },
      { start: '2027-01-15T08:05:00.000000000Z', count: 0 },
      { start: '2027-01-15T08:10:00.000000000Z', count: 9 },
    ],
    parseRfc3339,
  );
  const t0 = Date.UTC(2027, 0, 15, 8) / 1000;
  assert.deepEqual(data, [[t0, t0 + 300, t0 + 600], [3, 0, 9]]);
  assert.equal(bucketWidthMs(data[0]), 300000);
  assert.equal(describeWidth(300000), '5m');
  assert.equal(describeWidth(86400000), '1d');
  assert.deepEqual(histogramNotes(data[0], data[1], 12), ['each bar is 5m']);
  assert.deepEqual(histogramNotes(data[0], data[1], 20), ['each bar is 5m', 'the bars hold 12 of 20 matching events']);
  assert.deepEqual(histogramNotes([], [], 5), ['the server sent no histogram for this result']);
});

test('a drag across the histogram selects a UTC range, either direction', () => {
  const a = Date.UTC(2027, 0, 15, 8, 0, 0) / 1000;
  const b = a + 90.25;
  const expected = { from: '2027-01-15T08:00:00.000Z', to: '2027-01-15T08:01:30.250Z' };
  assert.deepEqual(selectionToRange(a, b), expected);
  assert.deepEqual(selectionToRange(b, a), expected);
  assert.equal(selectionToRange(a, a + 0.5), null, 'narrower than a second is ignored');
  assert.equal(selectionToRange(a, NaN), null);
});
