// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../src/domain/canonical-json.js';

describe('canonicalJson', () => {
  const cases: [string, unknown, string][] = [
    ['keys sorted, no whitespace', { b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    ['nested objects sorted too', { z: { y: 1, x: { b: 2, a: 1 } } }, '{"z":{"x":{"a":1,"b":2},"y":1}}'],
    ['integer-like keys sorted as strings, not enumerated first', { 9: 'a', 10: 'b', a: 'c' }, '{"10":"b","9":"a","a":"c"}'],
    ['keys by UTF-16 code units (RFC 8785)', { é: 1, z: 2, Z: 3, '\u{1F600}': 4, '\uFB01': 5 }, '{"Z":3,"z":2,"é":1,"\u{1F600}":4,"\uFB01":5}'],
    ['undefined, functions and symbols left out of objects', { a: undefined, b: () => 1, c: Symbol('s'), d: 1 }, '{"d":1}'],
    ['…and null in arrays', [undefined, () => 1, 1], '[null,null,1]'],
    ['non-finite numbers are null, -0 is 0', [NaN, Infinity, -0, 1e21, 0.1], '[null,null,0,1e+21,0.1]'],
    ['toJSON honoured (dates)', { at: new Date('2026-11-28T21:13:00Z') }, '{"at":"2026-11-28T21:13:00.000Z"}'],
    ['strings escaped as JSON.stringify does', { s: 'a"b\\c\n\u0001\u2028' }, `{"s":${JSON.stringify('a"b\\c\n\u0001\u2028')}}`],
    ['boxed primitives as their value', [Object(1), Object('s'), Object(false)], '[1,"s",false]'],
    ['a primitive', 'x', '"x"'],
  ];
  for (const [name, value, expected] of cases) {
    test(name, () => assert.equal(canonicalJson(value), expected));
  }

  test('stored and read back, a value writes the same text (what makes hashes recomputable)', () => {
    const values: unknown[] = [{ b: [1, { d: undefined, c: new Date(0) }], a: -0, '10': NaN, '2': 'x' }, { deep: { deeper: [{ z: 1, y: [] }] } }, []];
    for (const v of values) {
      const text = canonicalJson(v);
      assert.equal(canonicalJson(JSON.parse(text)), text);
    }
  });

  test('refuses what has no JSON text: a cycle, a bigint, undefined itself', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => canonicalJson(cyclic), /circular/);
    assert.throws(() => canonicalJson({ n: 1n }), TypeError);
    assert.throws(() => canonicalJson(undefined), /no JSON form/);
  });

  test('a shared (not circular) object may appear twice', () => {
    const shared = { a: 1 };
    assert.equal(canonicalJson({ x: shared, y: [shared] }), '{"x":{"a":1},"y":[{"a":1}]}');
  });
});
