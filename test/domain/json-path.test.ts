import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPath } from '../../src/domain/json-path.js';

describe('jsonPath', () => {
  const doc = { a: { b: [{ c: 1 }, { c: 'two' }] }, flag: false, empty: null, 'x.y': 'dotted' };
  const cases: [string, unknown][] = [
    ['a.b.0.c', 1],
    ['a.b.1.c', 'two'],
    ['flag', false],
    ['empty', null],
    ['a.b.2.c', undefined],
    ['a.missing', undefined],
    ['empty.deeper', undefined],
    ['flag.deeper', undefined],
    // An array's length is its own property, so "how many" can be checked too.
    ['a.b.length', 2],
    ['a.constructor', undefined],
    ['__proto__', undefined],
  ];
  for (const [path, want] of cases) {
    test(`${path} → ${JSON.stringify(want)}`, () => assert.equal(jsonPath(doc, path), want));
  }
  test('a value that is not an object has no paths', () => {
    assert.equal(jsonPath('text', 'length'), undefined);
    assert.equal(jsonPath(undefined, 'a'), undefined);
  });
});
