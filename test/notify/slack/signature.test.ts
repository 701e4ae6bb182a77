// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signSlackRequest, SlackSignatureVerifier } from '../../../src/notify/slack/signature.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const OLD_SECRET = 'e0f6c4b3a2918d7c6b5a4f3e2d1c0b9a';
const NOW_S = 1_700_000_000;
const BODY = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D');

/** A verifier whose clock reads `nowS` (seconds), changeable between calls. */
function verifier(secrets: readonly string[] = [SECRET], clock = { nowS: NOW_S }) {
  return new SlackSignatureVerifier({ secrets, now: () => clock.nowS * 1000 });
}

function request(over: { timestamp?: string | undefined; signature?: string | undefined; rawBody?: Buffer } = {}) {
  const timestamp = 'timestamp' in over ? over.timestamp : String(NOW_S);
  const rawBody = over.rawBody ?? BODY;
  const signature = 'signature' in over ? over.signature : signSlackRequest(SECRET, Number(timestamp), rawBody);
  return { timestamp, signature, rawBody };
}

describe('signSlackRequest', () => {
  test("matches Slack's documented example", () => {
    // The example from Slack's "Verifying requests from Slack" guide.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    assert.equal(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body), 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  test('signs strings and buffers alike', () => {
    assert.equal(signSlackRequest(SECRET, NOW_S, 'abc'), signSlackRequest(SECRET, NOW_S, Buffer.from('abc')));
  });
});

describe('SlackSignatureVerifier', () => {
  test('accepts a request signed with the secret', () => {
    assert.deepEqual(verifier().verify(request()), { ok: true, staleAtMs: (NOW_S + 300) * 1000 });
  });

  test('accepts the second secret while a secret is rotated', () => {
    const v = verifier([OLD_SECRET, SECRET]);
    assert.deepEqual(v.verify(request()), { ok: true, staleAtMs: (NOW_S + 300) * 1000 });
    const signedWithOld = request({ signature: signSlackRequest(OLD_SECRET, NOW_S, BODY), rawBody: BODY });
    const other = verifier([OLD_SECRET, SECRET]);
    assert.deepEqual(other.verify(signedWithOld), { ok: true, staleAtMs: (NOW_S + 300) * 1000 });
  });

  test('refuses a request signed with another secret', () => {
    const r = verifier().verify(request({ signature: signSlackRequest('not-our-secret', NOW_S, BODY) }));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /does not match/);
  });

  test('refuses a tampered body', () => {
    const signed = request();
    const r = verifier().verify({ ...signed, rawBody: Buffer.from(BODY.toString() + 'x') });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /does not match/);
  });

  test('refuses signatures of the wrong length or shape without throwing', () => {
    for (const signature of ['v0=', 'v0=abc', `${signSlackRequest(SECRET, NOW_S, BODY)}00`, 'garbage', 'v0=' + 'é'.repeat(64)]) {
      const r = verifier().verify(request({ signature }));
      assert.equal(r.ok, false, signature);
    }
  });

  test('refuses a stale request, and one from the future, beyond the tolerance', () => {
    const stale = verifier().verify(request({ timestamp: String(NOW_S - 301) }));
    assert.equal(stale.ok, false);
    assert.match(!stale.ok ? stale.reason : '', /301s old, more than the 300s allowed/);
    const future = verifier().verify(request({ timestamp: String(NOW_S + 301) }));
    assert.equal(future.ok, false);
    assert.match(!future.ok ? future.reason : '', /301s in the future/);
    // Right at the edge both ways is still fine.
    assert.deepEqual(verifier().verify(request({ timestamp: String(NOW_S - 300) })), { ok: true, staleAtMs: NOW_S * 1000 });
    assert.deepEqual(verifier().verify(request({ timestamp: String(NOW_S + 300) })), { ok: true, staleAtMs: (NOW_S + 600) * 1000 });
  });

  test('refuses a replay of an accepted request, even one that stays within the window', () => {
    const clock = { nowS: NOW_S };
    const v = verifier([SECRET], clock);
    const signed = request();
    assert.deepEqual(v.verify(signed), { ok: true, staleAtMs: (NOW_S + 300) * 1000 });
    clock.nowS += 200;
    const again = v.verify(signed);
    assert.equal(again.ok, false);
    assert.match(!again.ok ? again.reason : '', /already accepted once: a replay/);
    // Once out of the window it is refused as stale, and the memory of it is gone.
    clock.nowS += 200;
    const later = v.verify(signed);
    assert.match(!later.ok ? later.reason : '', /old, more than/);
  });

  test('a forged request is not remembered: the genuine one with the same timestamp still passes', () => {
    const v = verifier();
    assert.equal(v.verify(request({ signature: 'v0=' + '0'.repeat(64) })).ok, false);
    assert.deepEqual(v.verify(request()), { ok: true, staleAtMs: (NOW_S + 300) * 1000 });
  });

  test('keeps its memory bounded', () => {
    const clock = { nowS: NOW_S };
    const v = verifier([SECRET], clock);
    for (let i = 0; i < 10_050; i++) {
      const body = Buffer.from(`n=${i}`);
      assert.deepEqual(v.verify({ timestamp: String(NOW_S), signature: signSlackRequest(SECRET, NOW_S, body), rawBody: body }), {
        ok: true,
        staleAtMs: (NOW_S + 300) * 1000,
      });
    }
    const seen = (v as unknown as { seen: Map<string, number> }).seen;
    assert.ok(seen.size <= 10_000, `remembers ${seen.size}`);
    // Once the window has passed, one more request prunes every stale entry.
    clock.nowS += 301;
    const body = Buffer.from('late');
    assert.deepEqual(v.verify({ timestamp: String(clock.nowS), signature: signSlackRequest(SECRET, clock.nowS, body), rawBody: body }), {
      ok: true,
      staleAtMs: (clock.nowS + 300) * 1000,
    });
    assert.equal(seen.size, 1);
  });

  test('names the missing header', () => {
    const noTimestamp = verifier().verify(request({ timestamp: undefined, signature: 'v0=abc' }));
    assert.deepEqual(noTimestamp, { ok: false, reason: 'The X-Slack-Request-Timestamp header is missing.' });
    const noSignature = verifier().verify(request({ signature: undefined }));
    assert.deepEqual(noSignature, { ok: false, reason: 'The X-Slack-Signature header is missing.' });
  });

  test('refuses a timestamp that is not a whole number', () => {
    for (const timestamp of ['1.7e9', 'abc', '-1700000000', ' 1700000000', '1700000000.5']) {
      const r = verifier().verify(request({ timestamp, signature: 'v0=abc' }));
      assert.deepEqual(r, { ok: false, reason: 'The X-Slack-Request-Timestamp header is not a whole number of seconds.' }, timestamp);
    }
  });

  test('refuses to start without a secret', () => {
    assert.throws(() => new SlackSignatureVerifier({ secrets: [] }), /Signing Secret/);
    assert.throws(() => new SlackSignatureVerifier({ secrets: [''] }), /non-empty/);
  });
});
