import assert from 'node:assert/strict';
import { test } from 'node:test';

import { debounce } from '../src/debounce';

test('a burst of calls runs once, after the last; cancel drops a pending call', async () => {
  let runs = 0;
  const d = debounce(() => runs++, 30);
  d();
  d();
  await new Promise((r) => setTimeout(r, 10));
  d();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(runs, 1);
  d();
  d.cancel();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(runs, 1);
});
