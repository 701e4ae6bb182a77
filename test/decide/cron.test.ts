// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronSyntaxError, parseCron } from '../../src/decide/cron.js';

const at = (iso: string) => new Date(iso);

describe('cron: which minutes match', () => {
  // [expression, instant, matches]; 2024-05-05 is a Sunday, 2024-05-01 a Wednesday.
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ['* * * * *', '2024-05-01T12:34:56Z', true],
    ['0 2 * * SUN', '2024-05-05T02:00:00Z', true],
    ['0 2 * * SUN', '2024-05-05T02:00:59.999Z', true],
    ['0 2 * * SUN', '2024-05-05T02:01:00Z', false],
    ['0 2 * * SUN', '2024-05-06T02:00:00Z', false],
    ['0 2 * * 0', '2024-05-05T02:00:00Z', true],
    ['0 2 * * 7', '2024-05-05T02:00:00Z', true],
    ['0 2 * * sun', '2024-05-05T02:00:00Z', true],
    ['0 2 * * MON-FRI', '2024-05-05T02:00:00Z', false],
    ['0 2 * * MON-FRI', '2024-05-01T02:00:00Z', true],
    ['*/15 * * * *', '2024-05-01T12:45:00Z', true],
    ['*/15 * * * *', '2024-05-01T12:50:00Z', false],
    ['5/20 * * * *', '2024-05-01T12:45:00Z', true],
    ['5/20 * * * *', '2024-05-01T12:05:00Z', true],
    ['5/20 * * * *', '2024-05-01T12:00:00Z', false],
    ['10-20/5 * * * *', '2024-05-01T12:15:00Z', true],
    ['10-20/5 * * * *', '2024-05-01T12:25:00Z', false],
    ['0,30 9,17 * * *', '2024-05-01T17:30:00Z', true],
    ['0,30 9,17 * * *', '2024-05-01T12:30:00Z', false],
    ['0 0 1 JAN *', '2024-01-01T00:00:00Z', true],
    ['0 0 1 JAN *', '2024-02-01T00:00:00Z', false],
    ['0 0 * 5 *', '2024-05-31T00:00:00Z', true],
    // Both day fields restricted: either matches (the 1st, and every Sunday).
    ['0 0 1 * SUN', '2024-05-01T00:00:00Z', true],
    ['0 0 1 * SUN', '2024-05-05T00:00:00Z', true],
    ['0 0 1 * SUN', '2024-05-06T00:00:00Z', false],
    // One of them a star (even with a step): only the other counts.
    ['0 0 */2 * SUN', '2024-05-05T00:00:00Z', true],
    ['0 0 */2 * SUN', '2024-05-12T00:00:00Z', false],
    ['0 0 1 * *', '2024-05-05T00:00:00Z', false],
    ['@daily', '2024-05-01T00:00:00Z', true],
    ['@weekly', '2024-05-05T00:00:00Z', true],
    ['@weekly', '2024-05-01T00:00:00Z', false],
    ['@hourly', '2024-05-01T13:00:00Z', true],
    ['@monthly', '2024-05-01T00:00:00Z', true],
    ['@yearly', '2024-01-01T00:00:00Z', true],
  ];
  for (const [expr, iso, expected] of cases) {
    test(`${expr} at ${iso}: ${expected}`, () => assert.equal(parseCron(expr).matches(at(iso)), expected));
  }

  test('a time zone moves the hours (Europe/Berlin is UTC+2 in May)', () => {
    const berlin = parseCron('0 2 * * SUN', 'Europe/Berlin');
    assert.equal(berlin.matches(at('2024-05-05T00:00:00Z')), true);
    assert.equal(berlin.matches(at('2024-05-05T02:00:00Z')), false);
  });

  test('a time zone with a half-hour offset (Asia/Kolkata, UTC+5:30)', () => {
    assert.equal(parseCron('0 8 * * *', 'Asia/Kolkata').matches(at('2024-05-01T02:30:00Z')), true);
  });
});

describe('cron: the last start within a window', () => {
  test('finds the latest matching minute, inclusive of now, exclusive of now - within', () => {
    const c = parseCron('0 2 * * SUN');
    assert.equal(c.lastStart(at('2024-05-05T03:59:59Z'), 2 * 3_600_000)?.toISOString(), '2024-05-05T02:00:00.000Z');
    assert.equal(c.lastStart(at('2024-05-05T02:00:00Z'), 60_000)?.toISOString(), '2024-05-05T02:00:00.000Z');
    assert.equal(c.lastStart(at('2024-05-05T04:00:00Z'), 2 * 3_600_000), null, 'a 2h window from 02:00 is over at 04:00');
    assert.equal(c.lastStart(at('2024-05-05T01:59:00Z'), 7 * 86_400_000)?.toISOString(), '2024-04-28T02:00:00.000Z');
    assert.equal(c.lastStart(at('2024-05-04T12:00:00Z'), 86_400_000), null);
  });

  test('of several starts within the window, the latest', () => {
    assert.equal(parseCron('*/10 * * * *').lastStart(at('2024-05-01T12:34:00Z'), 3_600_000)?.toISOString(), '2024-05-01T12:30:00.000Z');
  });

  test('walks a long window quickly (a year of never-matching minutes)', () => {
    const started = performance.now();
    assert.equal(parseCron('0 0 30 2 *').lastStart(at('2024-05-01T12:00:00Z'), 366 * 86_400_000), null);
    assert.ok(performance.now() - started < 1000, 'skips whole hours that cannot match');
  });

  test('in a time zone, across a daylight-saving change (Europe/Berlin, 31 March 2024)', () => {
    const c = parseCron('30 1 * * *', 'Europe/Berlin');
    // 01:30 CET on 31 March is 00:30Z; the clocks then jump from 02:00 to 03:00.
    assert.equal(c.lastStart(at('2024-03-31T02:00:00Z'), 3 * 3_600_000)?.toISOString(), '2024-03-31T00:30:00.000Z');
  });
});

describe('cron: refused expressions say how to fix them', () => {
  const bad: ReadonlyArray<readonly [string, RegExp]> = [
    ['0 2 * *', /has 4 field\(s\): write five fields/],
    ['0 2 * * * *', /has 6 field\(s\)/],
    ['', /has 1 field/],
    ['60 * * * *', /minute field "60": 60 is outside 0-59/],
    ['0 24 * * *', /hour field "24": 24 is outside 0-23/],
    ['0 0 0 * *', /day of month field "0": 0 is outside 1-31/],
    ['0 0 * 13 *', /month field "13"/],
    ['0 0 * * 8', /day of week field "8": 8 is outside 0-7/],
    ['0 0 * * FUNDAY', /"FUNDAY" is not a number from 0 to 7 or a name \(SUN, MON/],
    ['*/0 * * * *', /the step in "\*\/0" must be a whole number above 0/],
    ['30-10 * * * *', /runs backwards/],
    ['1-2-3 * * * *', /not a value, a range/],
    ['1/2/3 * * * *', /more than one "\/"/],
    ['1,,2 * * * *', /"" is not a number/],
    ['@reboot', /unknown macro "@reboot"/],
  ];
  for (const [expr, message] of bad) {
    test(JSON.stringify(expr), () =>
      assert.throws(
        () => parseCron(expr),
        (err: Error) => err instanceof CronSyntaxError && message.test(err.message),
      ),
    );
  }

  test('an unknown time zone', () => {
    assert.throws(() => parseCron('0 2 * * *', 'Mars/Olympus'), /unknown time zone "Mars\/Olympus"/);
  });
});
