import assert from 'node:assert/strict';
import { test } from 'node:test';

import { entityRecords, freshness, impactItem, isListCommand, isUnsupported, listPresentation, statsRecord } from '../src/protocol';

test('a command the server does not advertise is unsupported without asking', () => {
  assert.equal(isUnsupported('isgraph.stats', []), true);
  assert.equal(isUnsupported('isgraph.stats', ['isgraph.stats']), false);
  assert.equal(isUnsupported('isgraph.stats', undefined), false);
});

test('method-not-found and pygls "not defined" errors mean unsupported; other errors do not', () => {
  assert.equal(isUnsupported('x', undefined, { code: -32601, message: 'Method Not Found' }), true);
  assert.equal(isUnsupported('x', undefined, { code: -32602, message: "Command name 'x' is not defined" }), true);
  assert.equal(isUnsupported('x', undefined, { code: -32603, message: 'store is locked' }), false);
});

const rec = { key: 'python:function:a.py:f', name: 'f', qualname: 'a.f', kind: 'function', path: 'a.py', start_line: 3 };

test('entity records from a list or from an isgraph/query answer; junk dropped', () => {
  assert.deepEqual(entityRecords([rec, { nope: 1 }]), [rec]);
  assert.deepEqual(entityRecords({ results: [rec], fresh: true }), [rec]);
  assert.deepEqual(entityRecords(null), []);
  assert.deepEqual(entityRecords('x'), []);
});

test('stats, plain or wrapped; anything else undefined', () => {
  assert.deepEqual(statsRecord({ files: 2, entities: 9, edges: 4 }), { files: 2, entities: 9, edges: 4 });
  assert.equal(statsRecord({ stats: { files: 2, entities: 9 } })?.entities, 9);
  assert.equal(statsRecord({ files: '2' }), undefined);
  assert.equal(statsRecord(undefined), undefined);
});

test('freshness and quick pick items', () => {
  assert.deepEqual(freshness({ results: [], fresh: false, pending_files: 4 }), { fresh: false, pendingFiles: 4 });
  assert.equal(freshness({}), undefined);
  assert.deepEqual(impactItem({ ...rec, depth: 2 }), {
    label: 'f',
    description: 'function a.f',
    detail: 'depth 2 · a.py:3',
  });
});

test('the lists a code action or lens runs are shown, each titled for what it lists', () => {
  assert.equal(isListCommand('isgraph.callers'), true);
  assert.equal(isListCommand('isgraph.candidates'), true);
  assert.equal(isListCommand('isgraph.impact'), true);
  assert.equal(isListCommand('isgraph.stats'), false);
  assert.deepEqual(listPresentation('isgraph.callers', 'python:function:lib.py:helper', 1), {
    title: 'isgraph: callers of helper — 1 caller',
    empty: 'isgraph: nothing calls helper.',
  });
  assert.equal(listPresentation('isgraph.candidates', 'ambig', 2).title, 'isgraph: definitions named ambig — 2 candidates');
  assert.equal(listPresentation('isgraph.impact', 'a.py:f', 0, false).empty, 'isgraph: nothing depends on f (the index is still being updated).');
  assert.equal(listPresentation('isgraph.impact', 'f', 3).title, 'isgraph: impact of f — 3 dependents');
});
