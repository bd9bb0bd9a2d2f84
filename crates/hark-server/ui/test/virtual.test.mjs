import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuffer, endScrollTop, visibleWindow } from '../static/js/virtual.js';

const contents = (ring) => Array.from({ length: ring.length }, (_, i) => ring.at(i));

test('only the rows in view, plus overscan, are rendered from 100 000', () => {
  assert.deepEqual(visibleWindow(0, 520, 26, 100000, 10), { start: 0, end: 31 });
  assert.deepEqual(visibleWindow(26 * 50000, 520, 26, 100000, 10), { start: 49990, end: 50031 });
  assert.deepEqual(visibleWindow(26 * 99990, 520, 26, 100000, 10), { start: 99980, end: 100000 });
  assert.deepEqual(visibleWindow(0, 520, 26, 0, 10), { start: 0, end: 0 });
});

test('following the end of 5 000 rows renders the last screenful and the overscan above it', () => {
  const top = endScrollTop(5000, 22, 440);
  assert.equal(top, 5000 * 22 - 440);
  assert.deepEqual(visibleWindow(top, 440, 22, 5000, 10), { start: 4970, end: 5000 });
  // Fewer rows than fill the view: no scrolling, all of them.
  assert.equal(endScrollTop(12, 22, 440), 0);
  assert.deepEqual(visibleWindow(0, 440, 22, 12, 10), { start: 0, end: 12 });
});

test('the ring keeps the newest items in arrival order, evicting one per push when full', () => {
  const r = new RingBuffer(3);
  assert.equal(r.push('a'), 0);
  assert.equal(r.push('b'), 0);
  assert.equal(r.push('c'), 0);
  assert.deepEqual(contents(r), ['a', 'b', 'c']);
  assert.equal(r.push('d'), 1);
  assert.equal(r.push('e'), 1);
  assert.deepEqual(contents(r), ['c', 'd', 'e']);
  assert.equal(r.length, 3);
  assert.equal(r.at(-1), undefined);
  assert.equal(r.at(3), undefined);
});

test('sequence numbers stay with their items as older ones leave and after a clear', () => {
  const r = new RingBuffer(4);
  for (let n = 0; n < 10; n += 1) r.push(n);
  // Index i holds the item that arrived as number first + i.
  assert.equal(r.first, 6);
  for (let i = 0; i < r.length; i += 1) assert.equal(r.at(i), r.first + i);
  r.clear();
  assert.equal(r.length, 0);
  assert.equal(r.at(0), undefined);
  r.push('x');
  assert.equal(r.first, 10, 'a cleared ring does not reuse sequence numbers');
  assert.deepEqual(contents(r), ['x']);
});

test('a ring of 5 000 wrapped many times holds exactly the newest 5 000', () => {
  const r = new RingBuffer(5000);
  let evicted = 0;
  for (let n = 0; n < 23456; n += 1) evicted += r.push(n);
  assert.equal(evicted, 23456 - 5000);
  assert.equal(r.at(0), 23456 - 5000);
  assert.equal(r.at(4999), 23455);
  assert.equal(r.items.length, 5000, 'no slot beyond the cap is ever used');
});
