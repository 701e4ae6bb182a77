// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureThrottle } from '../../src/http/failure-throttle.js';

test('one record per source per window, carrying the refusals it stands for', () => {
  const t = new FailureThrottle(60_000);
  assert.deepEqual(t.admit('10.0.0.1', 0), { unrecorded: 0 });
  assert.equal(t.admit('10.0.0.1', 1000), null);
  assert.equal(t.admit('10.0.0.1', 59_999), null);
  assert.deepEqual(t.admit('10.0.0.2', 2000), { unrecorded: 0 }, 'sources are counted apart');
  assert.deepEqual(t.admit('10.0.0.1', 60_000), { unrecorded: 2 }, 'the next window reports the two unrecorded refusals');
});

test('memory is bounded: the oldest sources are forgotten first', () => {
  const t = new FailureThrottle(60_000, 2);
  t.admit('a', 0);
  t.admit('b', 0);
  t.admit('c', 0);
  assert.deepEqual(t.admit('a', 1), { unrecorded: 0 }, '"a" was forgotten, so it is recorded again');
  assert.equal(t.admit('c', 1), null);
});
