import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ago, onProgress, parseProgressMessage, render, type Status } from '../src/status';

test('progress messages give files done of found', () => {
  assert.deepEqual(parseProgressMessage('12/40 files'), { done: 12, total: 40 });
  assert.equal(parseProgressMessage('indexed'), undefined);
  assert.equal(parseProgressMessage(undefined), undefined);
});

test('begin, report, end: indexing counts, then ready', () => {
  let s: Status = { phase: 'starting' };
  s = onProgress(s, { kind: 'begin', title: 'isgraph: indexing ws' }, 0);
  assert.equal(render(s, 0).text, '$(sync~spin) isgraph');
  s = onProgress(s, { kind: 'report', message: '1200/4000 files', percentage: 30 }, 0);
  assert.equal(render(s, 0).text, '$(sync~spin) isgraph 1,200/4,000');
  assert.equal(render(s, 0).tooltip, 'isgraph: indexing 1,200/4,000 files (30%)');
  s = onProgress(s, { kind: 'end', message: 'indexed' }, 1000);
  assert.equal(s.phase, 'ready');
  assert.equal(s.indexedAt, 1000);
  s = { ...s, entities: 51234, files: 4000, fresh: true };
  assert.equal(render(s, 1000 + 125_000).text, '$(type-hierarchy) isgraph 51,234');
  assert.equal(
    render(s, 1000 + 125_000).tooltip,
    'isgraph: 51,234 entities in 4,000 files; up to date, indexed 2 min ago. Click for statistics.',
  );
});

test('stale index and unknown counts say so', () => {
  const s: Status = { phase: 'ready', fresh: false, pendingFiles: 3 };
  assert.equal(render(s, 0).text, '$(history) isgraph');
  assert.equal(render(s, 0).tooltip, 'isgraph: indexed; re-indexing 3 files. Click for statistics.');
  assert.match(render({ phase: 'failed', error: 'isgraph is not installed in python3' }, 0).tooltip, /not installed/);
});

test('ago', () => {
  assert.equal(ago(0, 59_000), 'just now');
  assert.equal(ago(0, 60_000), '1 min ago');
  assert.equal(ago(0, 7_300_000), '2 h ago');
});
