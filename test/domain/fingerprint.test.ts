// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { alertmanagerFingerprint } from '../../src/domain/fingerprint.js';
import { AM_FIXTURES, fixture } from '../support/fixtures.js';

test('the fingerprint of a label set is the one Alertmanager gives it, in every captured payload', () => {
  let checked = 0;
  for (const name of readdirSync(AM_FIXTURES).filter((n) => n.endsWith('.json'))) {
    for (const alert of (fixture(name) as { alerts?: { labels: Record<string, string>; fingerprint: string }[] }).alerts ?? []) {
      assert.equal(alertmanagerFingerprint(alert.labels), alert.fingerprint, `${name}: ${JSON.stringify(alert.labels)}`);
      checked++;
    }
  }
  assert.ok(checked >= 5, `${checked} captured alerts`);
});

test('the empty label set, and labels whose order or bytes differ', () => {
  // prometheus/common's emptyLabelSignature is the FNV-1a offset basis: no bytes hashed.
  assert.equal(alertmanagerFingerprint({}), 'cbf29ce484222325');
  assert.equal(alertmanagerFingerprint({ b: '1', a: '2' }), alertmanagerFingerprint({ a: '2', b: '1' }));
  assert.notEqual(alertmanagerFingerprint({ a: 'bc' }), alertmanagerFingerprint({ ab: 'c' }));
  assert.match(alertmanagerFingerprint({ service: 'café' }), /^[0-9a-f]{16}$/);
});
