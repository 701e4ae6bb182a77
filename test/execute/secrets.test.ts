// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CappedOutput } from '../../src/execute/output-cap.js';
import { SecretStore } from '../../src/execute/secrets.js';

const LONG = 'sk_live_abcXYZ-very-secret';
const NOTIFY_URL = 'https://bot:hunter2-notify-secret@hooks.example/x';
const store = new SecretStore({ REMEDIATOR_SECRET_SHORT: 'sk_live_abc', REMEDIATOR_SECRET_LONG: LONG, REMEDIATOR_SECRET_TINY: 'ab' }, null, [NOTIFY_URL]);
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('the redactor hides whole values and their encodings, and nothing a guess could probe', () => {
  const mustMask: [string, string, string][] = [
    ['the value itself', `token=${LONG};`, 'token=***;'],
    ['a secret containing another is hidden whole, not half', 'a sk_live_abc b', 'a *** b'],
    ['percent-encoded', `?t=${encodeURIComponent('p@ss/w0rd&more!')}`, '?t=***'],
    ['percent-encoded, lower-case hex', `?t=${encodeURIComponent('p@ss/w0rd&more!').replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`, '?t=***'],
    ['form-encoded (space as +)', `a=${new URLSearchParams({ v: 'pass word 123' }).toString().slice(2)}`, 'a=***'],
    ['inside a JSON string (quotes and backslashes escaped)', JSON.stringify({ t: 'q"uo\\te-secret' }), '{"t":"***"}'],
    ['inside a JSON string written ASCII-only (\\u escapes, \\/ escaped)', '{"t":"caf\\u00e9\\/secret"}', '{"t":"***"}'],
    ['base64 of the value', `Authorization: Bearer ${b64(LONG)}`, 'Authorization: Bearer ***'],
    ['base64 inside a Basic header (user:secret, any alignment)', `Authorization: Basic ${b64(`u:${LONG}`)}`, 'Authorization: Basic '],
    ['base64 at the second alignment', `x ${b64(`us:${LONG}`)}`, 'x '],
    ['base64 at the third alignment', `x ${b64(`use:${LONG}`)}`, 'x '],
    ['URL-safe base64', `x ${b64(`\u00ff\u00fe${LONG}`).replace(/\+/g, '-').replace(/\//g, '_')}`, 'x '],
    ['the notification URL (a hidden value)', `POST ${NOTIFY_URL} failed`, 'POST *** failed'],
  ];
  const withQuote = new SecretStore(
    {
      REMEDIATOR_SECRET_Q: 'q"uo\\te-secret',
      REMEDIATOR_SECRET_P: 'p@ss/w0rd&more!',
      REMEDIATOR_SECRET_S: 'pass word 123',
      REMEDIATOR_SECRET_C: 'café/secret',
    },
    null,
  );
  for (const [what, text, starts] of mustMask) {
    test(`masks: ${what}`, () => {
      const out = withQuote.redact(store.redact(text));
      assert.ok(out.startsWith(starts) && out.includes('***'), `${JSON.stringify(text)} became ${JSON.stringify(out)}`);
      for (const secret of [LONG, 'sk_live_abc', 'hunter2-notify-secret', 'q"uo', 'p@ss', 'pass word', 'café']) assert.ok(!out.includes(secret), out);
      assert.ok(!out.includes(b64(LONG).slice(4, 20)), out);
    });
  }

  const mustNotMask: [string, string][] = [
    ['a prefix of a secret (a guess being probed)', 'probe sk_live_abcXYZ-very-secre end'],
    ['a suffix of a secret', 'probe k_live_abcXYZ-very-secret end'],
    ['the 8 characters a secret starts with', 'sk_live_ and more'],
    ['"https://" although a hidden URL starts with it', 'see https://grafana.example/d/abc and https://bot:'],
    ['a value under 4 characters (it would mangle text)', 'tab and abc'],
    ['text around a secret fragment', 'hooks.example/x is not the whole URL'],
  ];
  // Only the long secret and the URL: "sk_live_abc" is a secret of its own above.
  const probed = new SecretStore({ REMEDIATOR_SECRET_LONG: LONG }, null, [NOTIFY_URL]);
  for (const [what, text] of mustNotMask) {
    test(`leaves alone: ${what}`, () => {
      assert.equal(probed.redact(text), text);
    });
  }

  test('a guessed prefix comes back exactly as sent, right or wrong: the output says nothing about the secret', () => {
    for (let k = 1; k < LONG.length; k++) {
      const right = LONG.slice(0, k);
      const wrong = `${LONG.slice(0, k - 1)}${LONG[k - 1] === 'Q' ? 'R' : 'Q'}`;
      assert.equal(probed.redact(`x${right}y`), `x${right}y`);
      assert.equal(probed.redact(`x${wrong}y`), `x${wrong}y`);
    }
  });
});

describe('an output cap cut: the characters beside it are hidden by position', () => {
  const secret = 'Sup3r-Secret-Value-1234567890';
  const s = new SecretStore({ REMEDIATOR_SECRET_DB: secret }, null);

  test('a secret cut by the cap survives in neither piece, even a piece under 8 characters', () => {
    // 1000 bytes, cap 64: the head keeps 48 bytes, the tail 16; the secret starts 42 bytes in.
    const text = `${'a'.repeat(42)}${secret}${'b'.repeat(1000 - 42 - secret.length - 10)}${secret.slice(-10)}`;
    const out = new CappedOutput(64);
    out.push(Buffer.from(text));
    const kept = out.text(s);
    assert.ok(!kept.includes('Sup3r-'), kept);
    assert.ok(!kept.includes('Sup3r'), kept);
    assert.ok(!kept.includes(secret.slice(-10)), kept);
    assert.ok(kept.includes('bytes cut'), kept);
  });

  test('what is hidden at the cut does not depend on the text: a secret prefix and other text are hidden alike', () => {
    const cut = (text: string) => {
      const out = new CappedOutput(64);
      out.push(Buffer.from(text));
      return out.text(s);
    };
    const withPrefix = cut(`${'a'.repeat(42)}Sup3r-${'b'.repeat(200)}`);
    const without = cut(`${'a'.repeat(42)}Xyz9q-${'b'.repeat(200)}`);
    assert.equal(withPrefix, without);
  });

  test('whole values inside either piece are hidden too, and an uncut text is only redacted', () => {
    const out = new CappedOutput(4096);
    out.push(Buffer.from(`start ${secret} end`));
    assert.equal(out.text(s), 'start *** end');
  });

  test('the window is a multiple of 16, not the secret length, and nothing is hidden at a cut without secrets', () => {
    assert.equal(s.cutWindow % 16, 0);
    assert.ok(s.cutWindow >= secret.length - 1);
    const none = new SecretStore({}, null);
    assert.equal(none.cutWindow, 0);
    assert.deepEqual(none.redactCut('head', 'tail'), { head: 'head', tail: 'tail' });
  });
});

test('the audit checkpoint key in secretsDir is no step secret, and its value is still hidden', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-secrets-'));
  try {
    writeFileSync(path.join(dir, 'TOKEN'), 'step-token-value\n');
    writeFileSync(path.join(dir, 'audit-checkpoint-key'), 'private-key-material-0123\n');
    const s = new SecretStore({}, dir, [], ['audit-checkpoint-key']);
    assert.equal(s.get('TOKEN'), 'step-token-value');
    assert.equal(s.get('audit-checkpoint-key'), undefined);
    assert.equal(s.redact('leaked private-key-material-0123'), 'leaked ***');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
