import { test } from 'node:test';
import assert from 'node:assert/strict';

import { convertValue, formToJson, tableOf } from '../static/js/app.js';
import { seriesToData } from '../static/js/monitor.js';
import { columnsOf, groupConfigUrl, keyOf } from '../static/js/admin.js';

test('form fields nest, append and fill lists of objects', () => {
  const body = formToJson([
    { name: 'monitors[]', value: 'db' },
    { name: 'schedule.type', value: 'once' },
    { name: 'schedule.start', value: '2026-01-01T00:00:00Z' },
    { name: 'matchers[].name', value: 'rule' },
    { name: 'matchers[].value', value: 'disk*' },
    { name: 'matchers[].name', value: 'host' },
    { name: 'comment', value: 'x' },
  ]);
  assert.deepEqual(body, {
    monitors: ['db'],
    schedule: { type: 'once', start: '2026-01-01T00:00:00Z' },
    matchers: [{ name: 'rule', value: 'disk*' }, { name: 'host' }],
    comment: 'x',
  });
});

test('values convert by their data-type', () => {
  assert.equal(convertValue('on', 'bool', true), true);
  assert.equal(convertValue('', 'bool', false), false);
  assert.equal(convertValue('42', 'number'), 42);
  assert.deepEqual(convertValue('{"a":1}', 'json'), { a: 1 });
  assert.equal(convertValue('2026-01-02T03:04:05Z', 'datetime'), '2026-01-02T03:04:05Z');
  assert.equal(convertValue('1970-01-01T00:00:01Z', 'datetime-ns'), 1_000_000_000);
  assert.throws(() => convertValue('soon', 'datetime'));
  assert.equal(convertValue('plain', undefined), 'plain');
});

test('tables show booleans as OK/FAIL and follow the named columns', () => {
  const t = tableOf([{ ok: false, port: 514, reason: 'in use', extra: 1 }], ['ok', 'port', 'reason']);
  assert.deepEqual(t, { head: ['ok', 'port', 'reason'], rows: [['FAIL', '514', 'in use']] });
  assert.deepEqual(tableOf([{ a: { b: 1 } }]).rows, [['{"b":1}']]);
});

test('response times become milliseconds per column', () => {
  const d = seriesToData({ points: [[60, 0.001, 0.002, 0.004], [120, 0.1, 0.2, 0.3], ['bad']] });
  assert.deepEqual(d[0], [60, 120]);
  assert.deepEqual(d[2], [2, 200]);
  assert.equal(d[3][1], 300);
});

test('secrets are never list columns', () => {
  assert.deepEqual(columnsOf([{ name: 'a', secret: 's', role: 'viewer' }, { name: 'b', created: 1 }]), [
    'name',
    'role',
    'created',
  ]);
});

test('users are named by name and tokens by id in URLs', () => {
  assert.equal(keyOf('users', { name: 'olga', role: 'admin' }), 'olga');
  assert.equal(keyOf('tokens', { id: 't1', name: 'ci' }), 't1');
});

test('a group configuration form saves to its group', () => {
  const fixed = '/api/v1/forwarders/groups/dmz/config';
  assert.equal(groupConfigUrl(fixed, null), fixed);
  const any = '/api/v1/forwarders/groups/{group}/config';
  assert.equal(groupConfigUrl(any, ' web 1 '), '/api/v1/forwarders/groups/web%201/config');
});
