// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/domain/duration.js';

describe('parseDuration: accepted', () => {
  // [text, milliseconds]
  const cases: ReadonlyArray<readonly [string, number]> = [
    ['0s', 0],
    ['500ms', 500],
    ['1ms', 1],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['1s500ms', 1500], // "ms" is one unit, not "m" then "s"
    ['5m5ms', 300_005],
    ['1w2d3h4m5s6ms', 604_800_000 + 172_800_000 + 10_800_000 + 240_000 + 5000 + 6],
    ['90m', 5_400_000],
    ['007s', 7000],
  ];
  for (const [text, ms] of cases) {
    test(`${text} → ${ms}`, () => assert.equal(parseDuration(text), ms));
  }
});

describe('parseDuration: refused', () => {
  const cases: readonly string[] = [
    '',
    '5',
    'm',
    '30 minutes',
    '5 m',
    ' 5m',
    '5m ',
    '1.5h',
    '-5m',
    '+5m',
    '1H',
    '5M',
    '1y',
    '5min',
    '5sec',
    '1h-30m',
    'PT5M',
    '5m,3s',
    'ms',
    '1h30',
  ];
  for (const text of cases) {
    test(JSON.stringify(text), () => assert.equal(parseDuration(text), undefined));
  }
});

describe('formatDuration', () => {
  // [milliseconds, text]
  const cases: ReadonlyArray<readonly [number, string]> = [
    [0, '0s'],
    [1, '1ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1s500ms'],
    [90_000, '1m30s'],
    [1_800_000, '30m'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [604_800_000, '1w'],
    [691_200_001, '1w1d1ms'],
  ];
  for (const [ms, text] of cases) {
    test(`${ms} → ${text}`, () => {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms, 'round-trips');
    });
  }
});
