// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretStore } from '../../src/execute/secrets.js';

const store = new SecretStore(
  { REMEDIATOR_SECRET_SHORT: 'sk_live_abc', REMEDIATOR_SECRET_LONG: 'sk_live_abcXYZ-very-secret', REMEDIATOR_SECRET_TINY: 'ab' },
  null,
  ['https://bot:hunter2-notify-secret@hooks.example/x'],
);

test('a secret containing another is hidden whole, not half', () => {
  assert.equal(store.redact('token=sk_live_abcXYZ-very-secret;'), 'token=***;');
  assert.equal(store.redact('a sk_live_abc b'), 'a *** b');
});

test('a secret cut by an output cap survives neither as a prefix nor as a suffix', () => {
  assert.equal(store.redact('head sk_live_abcXYZ-ver\n[… 100 bytes cut …]\n'), 'head ***\n[… 100 bytes cut …]\n');
  assert.equal(store.redact('…]\nXYZ-very-secret tail'), '…]\n*** tail');
  assert.equal(store.redact('exited with code 1: sk_live_abcXYZ-ve…'), 'exited with code 1: ***…');
});

test('hidden values (the notification URL) are redacted like secrets; values under 4 characters are not', () => {
  assert.equal(store.redact('POST https://bot:hunter2-notify-secret@hooks.example/x failed'), 'POST *** failed');
  assert.equal(store.redact('tab and abc'), 'tab and abc');
});
