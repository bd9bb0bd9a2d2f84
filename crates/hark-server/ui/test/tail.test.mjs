import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deduper, TailBuffer, backoffMs, parseTailMessage } from '../static/js/tail.js';

const events = (from, n) => Array.from({ length: n }, (_, i) => ({ n: from + i }));

test('arrivals are drawn in one frame, oldest first', () => {
  const b = new TailBuffer(5000);
  for (const e of events(0, 3)) b.push(e);
  assert.deepEqual(b.takeFrame(), { add: events(0, 3), remove: 0 });
  assert.equal(b.shown, 3);
  assert.equal(b.takeFrame(), null);
});

test('the page keeps at most 5 000 rows and counts the ones removed', () => {
  const b = new TailBuffer(5000);
  for (const e of events(0, 4990)) b.push(e);
  b.takeFrame();
  for (const e of events(4990, 30)) b.push(e);
  const f = b.takeFrame();
  assert.equal(f.add.length, 30);
  assert.equal(f.remove, 20);
  assert.equal(b.shown, 5000);
  assert.equal(b.dropped, 20);
});

test('a burst larger than the cap draws only the newest 5 000', () => {
  const b = new TailBuffer(5000);
  for (const e of events(0, 100)) b.push(e);
  b.takeFrame();
  for (const e of events(100, 12000)) b.push(e);
  const f = b.takeFrame();
  assert.equal(f.add.length, 5000);
  assert.deepEqual(f.add[0], { n: 7100 });
  assert.deepEqual(f.add.at(-1), { n: 12099 });
  assert.equal(f.remove, 100);
  assert.equal(b.shown, 5000);
  assert.equal(b.dropped, 100 + 7000);
});

test('a frame draws at most its budget, oldest first, the rest on later frames', () => {
  const b = new TailBuffer(5000);
  for (const e of events(0, 600)) b.push(e);
  const f1 = b.takeFrame(250);
  assert.deepEqual(f1.add, events(0, 250));
  assert.equal(b.waiting, 350);
  assert.deepEqual(b.takeFrame(250).add, events(250, 250));
  assert.deepEqual(b.takeFrame(250).add, events(500, 100));
  assert.equal(b.takeFrame(250), null);
  assert.equal(b.shown, 600);
});

test('a hidden tab returning to 5 000 waiting rows replaces the page over several frames', () => {
  const b = new TailBuffer(5000);
  for (const e of events(0, 5000)) b.push(e);
  while (b.takeFrame(1000)) {
    // drawn
  }
  for (const e of events(5000, 9000)) b.push(e);
  let removed = 0;
  let frames = 0;
  for (let f = b.takeFrame(1000); f; f = b.takeFrame(1000)) {
    removed += f.remove;
    frames += 1;
  }
  assert.equal(frames, 5);
  assert.equal(removed, 5000);
  assert.equal(b.shown, 5000);
  assert.equal(b.dropped, 4000 + 5000);
});

test('pause keeps arrivals and counts them; resume draws them', () => {
  const b = new TailBuffer(5000);
  for (const e of events(0, 5)) b.push(e);
  b.takeFrame();
  b.pause();
  for (const e of events(5, 42)) b.push(e);
  assert.equal(b.newWhilePaused, 42);
  assert.equal(b.takeFrame(), null, 'nothing is drawn while paused');
  assert.equal(b.waiting, 42);
  b.resume();
  assert.equal(b.newWhilePaused, 0);
  const f = b.takeFrame();
  assert.deepEqual(f.add, events(5, 42));
  assert.equal(b.shown, 47);
});

test('a long pause holds at most the cap, counting the whole arrival', () => {
  const b = new TailBuffer(5000);
  b.pause();
  for (const e of events(0, 23000)) b.push(e);
  assert.equal(b.newWhilePaused, 23000);
  assert.ok(b.queue.length < 10000, 'the queue is trimmed while paused');
  b.resume();
  const f = b.takeFrame();
  assert.equal(f.add.length, 5000);
  assert.deepEqual(f.add[0], { n: 18000 });
  assert.equal(b.dropped, 18000);
});

test('clear forgets rows and counts', () => {
  const b = new TailBuffer(10);
  for (const e of events(0, 20)) b.push(e);
  b.takeFrame();
  b.clear();
  assert.equal(b.shown, 0);
  assert.equal(b.dropped, 0);
  assert.equal(b.takeFrame(), null);
});

test('tail messages: events, lag notices, and junk', () => {
  const ev = { timestamp: '2027-01-01T00:00:00Z', message: 'x' };
  assert.deepEqual(parseTailMessage(JSON.stringify(ev)), { kind: 'event', event: ev });
  assert.deepEqual(parseTailMessage('{"lagged": 17}'), { kind: 'lagged', count: 17 });
  assert.equal(parseTailMessage('not json'), null);
  assert.equal(parseTailMessage('{"other": 1}'), null);
});

test('reconnection backs off up to 30 seconds', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('the deduper skips events seen already and forgets the oldest beyond its size', () => {
  const d = new Deduper(2);
  const a = { timestamp: 'a', received_at: 'a', message: '1' };
  const b = { timestamp: 'b', received_at: 'b', message: '2' };
  const c = { timestamp: 'c', received_at: 'c', message: '3' };
  assert.equal(d.add(a), true);
  assert.equal(d.add(a), false);
  assert.equal(d.add(b), true);
  assert.equal(d.add(c), true);
  assert.equal(d.add(a), true, 'a was forgotten');
});

test('the rows on the page are the newest 5 000 arrivals, oldest first, across frames', () => {
  const b = new TailBuffer(5000);
  for (const e of events(0, 3000)) b.push(e);
  b.takeFrame();
  for (const e of events(3000, 4000)) b.push(e);
  b.takeFrame(1500);
  b.takeFrame();
  assert.equal(b.rows.length, 5000);
  assert.deepEqual(b.rows.at(0), { n: 2000 });
  assert.deepEqual(b.rows.at(4999), { n: 6999 });
  assert.equal(b.rows.first, 2000, 'row keys follow the rows that left');
});

test('rows held while paused do not move the page; resume adds them at the end', () => {
  const b = new TailBuffer(10);
  for (const e of events(0, 10)) b.push(e);
  b.takeFrame();
  b.pause();
  for (const e of events(10, 4)) b.push(e);
  b.takeFrame();
  assert.deepEqual(b.rows.at(0), { n: 0 }, 'nothing left the page while paused');
  b.resume();
  assert.equal(b.takeFrame().remove, 4);
  assert.deepEqual(b.rows.at(0), { n: 4 });
  assert.deepEqual(b.rows.at(9), { n: 13 });
});
