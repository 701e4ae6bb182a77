// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalTimestamp, isZeroTime, timestampMs } from '../../src/receive/timestamp.js';

describe('canonicalTimestamp: accepted input', () => {
  // [input, canonical]
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00Z'],
    // Alertmanager (Go's RFC3339Nano) sends up to nine digits; they are all kept.
    ['2024-05-01T10:00:00.123456789Z', '2024-05-01T10:00:00.123456789Z'],
    ['2024-05-01T10:00:00.000000001Z', '2024-05-01T10:00:00.000000001Z'],
    ['2024-05-01T10:00:00.123Z', '2024-05-01T10:00:00.123Z'],
    ['2024-05-01T10:00:00.1Z', '2024-05-01T10:00:00.1Z'],
    // Trailing zeros go, as in Go's output, so one instant has one text.
    ['2024-05-01T10:00:00.120Z', '2024-05-01T10:00:00.12Z'],
    ['2024-05-01T10:00:00.123456780Z', '2024-05-01T10:00:00.12345678Z'],
    ['2024-05-01T10:00:00.000Z', '2024-05-01T10:00:00Z'],
    ['2024-05-01T10:00:00.000000000Z', '2024-05-01T10:00:00Z'],
    // Offsets are folded into UTC.
    ['2024-05-01T11:00:00+01:00', '2024-05-01T10:00:00Z'],
    ['2024-05-01T11:00:00.5+01:00', '2024-05-01T10:00:00.5Z'],
    ['2024-05-01T05:30:00-04:30', '2024-05-01T10:00:00Z'],
    ['2024-05-01T10:00:00+00:00', '2024-05-01T10:00:00Z'],
    ['2024-05-01T10:00:00-00:00', '2024-05-01T10:00:00Z'],
    ['2024-05-01T00:30:00+01:00', '2024-04-30T23:30:00Z'], // across a day
    ['2025-01-01T00:59:59.999999999+01:00', '2024-12-31T23:59:59.999999999Z'], // across a year
    ['2024-03-01T00:30:00+01:00', '2024-02-29T23:30:00Z'], // into a leap day
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00Z'],
    ['2024-05-01T23:59:59+23:59', '2024-05-01T00:00:59Z'],
    // Lower-case separators are RFC 3339 too.
    ['2024-05-01t10:00:00z', '2024-05-01T10:00:00Z'],
    // Go's zero time, which Alertmanager sends as endsAt of a firing alert.
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z'],
    ['0001-01-01T00:00:00.000000000Z', '0001-01-01T00:00:00Z'],
    ['0099-06-15T00:00:00Z', '0099-06-15T00:00:00Z'], // years 0-99 are not the 1900s
    ['9999-12-31T23:59:59.999999999Z', '9999-12-31T23:59:59.999999999Z'],
  ];
  for (const [input, canonical] of cases) {
    test(`${input} → ${canonical}`, () => {
      assert.equal(canonicalTimestamp(input), canonical);
      assert.equal(canonicalTimestamp(canonical), canonical, 'canonical text is a fixed point');
    });
  }
});

describe('canonicalTimestamp: refused input', () => {
  const cases: readonly string[] = [
    '',
    'now',
    '2024-05-01',
    '2024-05-01T10:00:00', // no zone
    '2024-05-01 10:00:00Z', // space separator
    '2024-05-01T10:00Z', // no seconds
    '2024-05-01T10:00:00.Z', // empty fraction
    '2024-05-01T10:00:00.1234567890Z', // ten digits
    '2024-05-01T10:00:00,5Z',
    '2024-05-01T10:00:00+0100', // offset without colon
    '2024-05-01T10:00:00+01',
    '2024-5-1T10:00:00Z',
    '24-05-01T10:00:00Z',
    ' 2024-05-01T10:00:00Z',
    '2024-05-01T10:00:00Z ',
    '2024-05-01T10:00:00ZZ',
    '1714557600',
    '2024-00-01T10:00:00Z',
    '2024-13-01T10:00:00Z',
    '2024-05-00T10:00:00Z',
    '2024-05-32T10:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T10:60:00Z',
    '2024-05-01T10:00:61Z',
    // Days that do not exist are refused, not rolled over into the next month.
    '2024-02-30T10:00:00Z',
    '2023-02-29T10:00:00Z',
    '2024-04-31T10:00:00Z',
    // Offsets beyond 23:59.
    '2024-05-01T10:00:00+24:00',
    '2024-05-01T10:00:00+01:60',
    // An offset that would leave the four-digit years.
    '0000-01-01T00:30:00+01:00',
    '9999-12-31T23:30:00-01:00',
  ];
  for (const input of cases) {
    test(JSON.stringify(input), () => assert.equal(canonicalTimestamp(input), undefined));
  }
});

describe('isZeroTime', () => {
  // [canonical, zero]
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ['0001-01-01T00:00:00Z', true],
    ['0001-01-01T00:00:00.000000001Z', true], // still "no end yet" to Alertmanager
    ['0001-01-01T00:00:01Z', false],
    ['1970-01-01T00:00:00Z', false],
    ['2024-05-01T10:00:00Z', false],
  ];
  for (const [input, zero] of cases) {
    test(`${input} → ${zero}`, () => assert.equal(isZeroTime(input), zero));
  }

  test('the zero time with any offset form is zero once canonical', () => {
    const canonical = canonicalTimestamp('0001-01-01T00:00:00.000Z');
    assert.equal(canonical, '0001-01-01T00:00:00Z');
    assert.equal(isZeroTime(canonical), true);
  });
});

describe('timestampMs', () => {
  // [canonical, ms since the epoch]
  const cases: ReadonlyArray<readonly [string, number]> = [
    ['1970-01-01T00:00:00Z', 0],
    ['2024-05-01T10:00:00Z', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T10:00:00.5Z', Date.UTC(2024, 4, 1, 10, 0, 0, 500)],
    ['2024-05-01T10:00:00.123Z', Date.UTC(2024, 4, 1, 10, 0, 0, 123)],
    // Digits below a millisecond are dropped, not rounded.
    ['2024-05-01T10:00:00.123999999Z', Date.UTC(2024, 4, 1, 10, 0, 0, 123)],
    ['2024-05-01T10:00:00.000000001Z', Date.UTC(2024, 4, 1, 10)],
    ['0001-01-01T00:00:00Z', -62_135_596_800_000],
  ];
  for (const [input, ms] of cases) {
    test(`${input} → ${ms}`, () => assert.equal(timestampMs(input), ms));
  }
});
