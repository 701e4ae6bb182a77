// Unit test: starts nothing (see scripts/test.mjs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition, type Condition } from '../../src/playbook/condition.js';

describe('parseCondition', () => {
  // [text, condition]
  const accepted: ReadonlyArray<readonly [string, Condition]> = [
    ['always', { kind: 'always' }],
    ['succeeded', { kind: 'succeeded' }],
    ['failed', { kind: 'failed' }],
    ['  always  ', { kind: 'always' }],
    ['steps.history.succeeded', { kind: 'step', step: 'history', outcome: 'succeeded', negate: false }],
    ['steps.wait-ready.failed', { kind: 'step', step: 'wait-ready', outcome: 'failed', negate: false }],
    ['steps.a_1.skipped', { kind: 'step', step: 'a_1', outcome: 'skipped', negate: false }],
    ['!steps.a.succeeded', { kind: 'step', step: 'a', outcome: 'succeeded', negate: true }],
    ['! steps.a.failed', { kind: 'step', step: 'a', outcome: 'failed', negate: true }],
  ];
  for (const [input, expected] of accepted) {
    test(`accepts ${JSON.stringify(input)}`, () => assert.deepEqual(parseCondition(input), expected));
  }

  const refused = [
    '',
    'Always',
    'never',
    '!always',
    'steps.a',
    'steps.a.ok',
    'steps.1a.failed',
    'steps.a.succeeded && steps.b.failed',
    'steps.a.succeeded == true',
    '!!steps.a.failed',
  ];
  for (const input of refused) {
    test(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseCondition(input), {
        message: `"${input}" is not a condition: write always, succeeded, failed, or steps.NAME.succeeded|failed|skipped (optionally with a leading "!")`,
      });
    });
  }
});
