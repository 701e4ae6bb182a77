// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { activeWindow, compileWindows } from '../../src/decide/maintenance.js';

const HOUR = 3_600_000;

// 2024-05-05 is a Sunday.
const SUNDAY_3AM = new Date('2024-05-05T03:00:00Z');
const shop = { alertname: 'Burst', namespace: 'shop' };

describe('activeWindow', () => {
  const windows = compileWindows([
    { name: 'sunday-shop', cron: '0 2 * * SUN', duration: 2 * HOUR, action: 'dry-run', matchers: ['namespace="shop"'] },
    { name: 'billing-freeze', cron: '0 0 * * *', duration: 24 * HOUR, action: 'suppress', matchers: ['namespace="billing"'] },
  ]);

  test('the window whose schedule and matchers hold', () => {
    assert.deepEqual(activeWindow(windows, SUNDAY_3AM, shop), {
      name: 'sunday-shop',
      cron: '0 2 * * SUN',
      action: 'dry-run',
      startedAt: new Date('2024-05-05T02:00:00Z'),
      endsAt: new Date('2024-05-05T04:00:00Z'),
    });
  });

  test('matchers restrict a window to some alerts', () => {
    assert.equal(activeWindow(windows, SUNDAY_3AM, { alertname: 'Burst', namespace: 'web' }), null);
    assert.equal(activeWindow(windows, SUNDAY_3AM, { alertname: 'Burst', namespace: 'billing' })?.name, 'billing-freeze');
  });

  test('outside its hours a window is not in force', () => {
    assert.equal(activeWindow(windows, new Date('2024-05-05T04:00:00Z'), shop), null);
    assert.equal(activeWindow(windows, new Date('2024-05-05T01:59:59Z'), shop), null);
  });

  test('a window without matchers covers every alert; suppress wins over dry-run', () => {
    const all = compileWindows([
      { name: 'soft', cron: '0 2 * * SUN', duration: 2 * HOUR, action: 'dry-run' },
      { name: 'hard', cron: '30 2 * * SUN', duration: HOUR, action: 'suppress' },
      { name: 'later-hard', cron: '0 3 * * SUN', duration: HOUR, action: 'suppress' },
    ]);
    assert.equal(activeWindow(all, SUNDAY_3AM, {})?.name, 'hard', 'the first suppressing window listed');
    assert.equal(activeWindow(all, new Date('2024-05-05T02:10:00Z'), {})?.name, 'soft');
  });

  test('a time zone is shown with the expression', () => {
    const [w] = compileWindows([{ name: 'berlin', cron: '0 4 * * SUN', duration: 2 * HOUR, action: 'suppress', timezone: 'Europe/Berlin' }]);
    assert.ok(w);
    assert.equal(activeWindow([w], new Date('2024-05-05T02:30:00Z'), {})?.cron, '0 4 * * SUN (Europe/Berlin)');
  });

  test('no windows, no window', () => {
    assert.equal(activeWindow([], SUNDAY_3AM, shop), null);
  });
});
