import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { RetryPolicy } from '../../src/domain/playbook.js';
import { backoffDelay, sleep } from '../../src/execute/retry.js';
import type { HttpCall } from '../../src/execute/steps/http-request.js';
import { NO_REDACTION } from '../../src/execute/output-cap.js';
import type { StepContext } from '../../src/execute/steps/step-context.js';
import { httpCheck, pollUntil, type Check } from '../../src/execute/steps/verify.js';
import { freePort } from '../support/alertmanager.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';

const ctx = (signal = new AbortController().signal): StepContext => ({ signal, timeoutMs: 30_000, outputCapBytes: 64 * 1024, redactor: NO_REDACTION });
const CAP = 64 * 1024;
type Expect = Parameters<typeof httpCheck>[1];
const statusOnly = (...status: number[]): Expect => ({ status, json: null, contains: null });

/** A clock that moves only when told to, for pollUntil's `now`. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('verify: httpCheck and pollUntil against a real local server', { timeout: 30_000 }, () => {
  let server: TestHttpServer;
  const call = (path = '/health'): HttpCall => ({ method: 'GET', url: `${server.url}${path}`, headers: {}, body: null });

  before(async () => {
    server = await startHttpServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.handle((_req, res) => reply(res, 200, 'ok'));
  });

  test('holds on the Nth try when the answer changes, with every measured value recorded line by line', async () => {
    const first = server.requests.length;
    server.handle((_req, res, n) => (n - first <= 2 ? reply(res, 503, 'warming up') : reply(res, 200, { status: 'ok', ready: 3 })));
    const clock = fakeClock();
    // Each try "takes" 1.5 s on the fake clock, so the recorded offsets are exact.
    const inner = httpCheck(call(), { status: [200], json: { path: 'status', equals: 'ok' }, contains: null }, 2_000, CAP, NO_REDACTION);
    const check: Check = async (signal) => {
      clock.advance(1_500);
      return inner(signal);
    };
    const r = await pollUntil(check, { withinMs: 10_000, everyMs: 10, now: clock.now }, ctx());
    assert.equal(r.ok, true, r.error ?? '');
    assert.equal(r.error, null);
    assert.deepEqual(r.output.split('\n'), ['+1.5s not yet: HTTP 503', '+3.0s not yet: HTTP 503', '+4.5s holds: HTTP 200, status = "ok"']);
    assert.equal(r.vars.stdout, 'HTTP 200, status = "ok"');
    assert.equal(server.requests.length - first, 3, 'no try after the condition held');
  });

  test('never holds: fails with "did not hold within" and the last measurement, after trying until the deadline', async () => {
    server.handle((_req, res) => reply(res, 503, 'down'));
    const clock = fakeClock();
    const inner = httpCheck(call(), statusOnly(200), 2_000, CAP, NO_REDACTION);
    const check: Check = async (signal) => {
      clock.advance(300);
      return inner(signal);
    };
    const r = await pollUntil(check, { withinMs: 1_000, everyMs: 10, now: clock.now }, ctx());
    assert.equal(r.ok, false);
    assert.equal(r.error, 'did not hold within 1s (last: HTTP 503)');
    assert.deepEqual(r.output.split('\n'), ['+0.3s not yet: HTTP 503', '+0.6s not yet: HTTP 503', '+0.9s not yet: HTTP 503', '+1.2s not yet: HTTP 503']);
  });

  test('never holds, on the real clock: stops at the deadline', async () => {
    server.handle((_req, res) => reply(res, 500, 'still broken'));
    const started = Date.now();
    const r = await pollUntil(httpCheck(call(), statusOnly(200), 1_000, CAP, NO_REDACTION), { withinMs: 400, everyMs: 50 }, ctx());
    const took = Date.now() - started;
    assert.equal(r.ok, false);
    assert.equal(r.error, 'did not hold within 0.4s (last: HTTP 500)');
    assert.ok(took >= 300 && took < 2_000, `took ${took} ms`);
    assert.ok(r.output.split('\n').length >= 3, r.output);
  });

  test('a server that refuses connections until the deadline: inconclusive, never success', async () => {
    const url = `http://127.0.0.1:${await freePort()}/health`;
    const r = await pollUntil(httpCheck({ ...call(), url }, statusOnly(200), 1_000, CAP, NO_REDACTION), { withinMs: 300, everyMs: 50 }, ctx());
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^inconclusive: the last check failed \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+\) and 0\.3s are up$/);
    for (const line of r.output.split('\n')) assert.match(line, /^\+\d+\.\ds error: ECONNREFUSED/);
  });

  test('a per-try timeout: a hung try times out, the next one holds', async () => {
    const first = server.requests.length;
    server.handle((_req, res, n) => (n - first === 1 ? undefined : reply(res, 204)));
    const r = await pollUntil(httpCheck(call(), statusOnly(200, 204), 200, CAP, NO_REDACTION), { withinMs: 5_000, everyMs: 20 }, ctx());
    assert.equal(r.ok, true, r.error ?? '');
    const lines = r.output.split('\n');
    assert.equal(lines.length, 2, r.output);
    assert.match(lines[0] ?? '', /^\+0\.\ds error: no answer within 200 ms$/);
    assert.match(lines[1] ?? '', /^\+0\.\ds holds: HTTP 204$/);
  });

  test('cancelling the run while it waits between tries ends the verify as "cancelled"', async () => {
    server.handle((_req, res) => reply(res, 503));
    const controller = new AbortController();
    const pending = pollUntil(httpCheck(call(), statusOnly(200), 1_000, CAP, NO_REDACTION), { withinMs: 60_000, everyMs: 10_000 }, ctx(controller.signal));
    await server.waitForRequests(server.requests.length + 1);
    controller.abort(new Error('run cancelled by test'));
    const r = await pending;
    assert.equal(r.ok, false);
    assert.equal(r.error, 'cancelled');
  });

  describe('what one check measures', () => {
    const BODY = { status: 'ok', replicas: 3, ready: true, version: '3', pods: [{ name: 'checkout-1', phase: 'Running' }], nothing: null };
    const cases: { name: string; expect: Expect; holds: boolean; measured: string }[] = [
      { name: 'a status in the list', expect: statusOnly(200, 204), holds: true, measured: 'HTTP 200' },
      { name: 'a status not in the list', expect: statusOnly(204), holds: false, measured: 'HTTP 200' },
      {
        name: 'json string equals',
        expect: { status: [200], json: { path: 'status', equals: 'ok' }, contains: null },
        holds: true,
        measured: 'HTTP 200, status = "ok"',
      },
      {
        name: 'json string differs',
        expect: { status: [200], json: { path: 'status', equals: 'degraded' }, contains: null },
        holds: false,
        measured: 'HTTP 200, status = "ok"',
      },
      {
        name: 'json number equals',
        expect: { status: [200], json: { path: 'replicas', equals: 3 }, contains: null },
        holds: true,
        measured: 'HTTP 200, replicas = 3',
      },
      {
        name: 'json number against the string "3" (no coercion)',
        expect: { status: [200], json: { path: 'replicas', equals: '3' }, contains: null },
        holds: false,
        measured: 'HTTP 200, replicas = 3',
      },
      {
        name: 'json string "3" against the number 3 (no coercion)',
        expect: { status: [200], json: { path: 'version', equals: 3 }, contains: null },
        holds: false,
        measured: 'HTTP 200, version = "3"',
      },
      {
        name: 'json boolean equals',
        expect: { status: [200], json: { path: 'ready', equals: true }, contains: null },
        holds: true,
        measured: 'HTTP 200, ready = true',
      },
      {
        name: 'json boolean against "true"',
        expect: { status: [200], json: { path: 'ready', equals: 'true' }, contains: null },
        holds: false,
        measured: 'HTTP 200, ready = true',
      },
      {
        name: 'json path through an array',
        expect: { status: [200], json: { path: 'pods.0.phase', equals: 'Running' }, contains: null },
        holds: true,
        measured: 'HTTP 200, pods.0.phase = "Running"',
      },
      {
        name: 'json path that is absent',
        expect: { status: [200], json: { path: 'pods.1.phase', equals: 'Running' }, contains: null },
        holds: false,
        measured: 'HTTP 200, pods.1.phase = undefined',
      },
      {
        name: 'json checked only after the status',
        expect: { status: [204], json: { path: 'status', equals: 'ok' }, contains: null },
        holds: false,
        measured: 'HTTP 200',
      },
      {
        name: 'body contains',
        expect: { status: [200], json: null, contains: '"phase":"Running"' },
        holds: true,
        measured: 'HTTP 200, body contains "\\"phase\\":\\"Running\\""',
      },
      {
        name: 'body lacks',
        expect: { status: [200], json: null, contains: 'CrashLoopBackOff' },
        holds: false,
        measured: 'HTTP 200, body lacks "CrashLoopBackOff"',
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        server.handle((_req, res) => reply(res, 200, BODY));
        const result = await httpCheck(call(), c.expect, 2_000, CAP, NO_REDACTION)(new AbortController().signal);
        assert.deepEqual(result, { holds: c.holds, measured: c.measured });
      });
    }

    test('a json check against a text answer does not hold', async () => {
      server.handle((_req, res) => reply(res, 200, '{"status":"ok"}'));
      const result = await httpCheck(
        call(),
        { status: [200], json: { path: 'status', equals: 'ok' }, contains: null },
        2_000,
        CAP,
        NO_REDACTION,
      )(new AbortController().signal);
      assert.deepEqual(result, { holds: false, measured: 'HTTP 200, status = undefined' });
    });
  });
});

describe('retry backoff and sleep', () => {
  const policy: RetryPolicy = { attempts: 10, backoffMs: 100, maxBackoffMs: 1_000 };
  // With random = 1 the delay is the whole exponential step: 100, 200, 400, 800, then the ceiling.
  const upper: [number, number][] = [
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [6, 1_000],
    [60, 1_000],
    [2_000, 1_000],
  ];

  test('random 1: exponential from backoffMs, capped at maxBackoffMs', () => {
    for (const [attempt, want] of upper)
      assert.equal(
        backoffDelay(policy, attempt, () => 1),
        want,
        `attempt ${attempt}`,
      );
  });

  test('any random value stays within [0, the exponential step] and never above the ceiling', () => {
    for (const [attempt, step] of upper) {
      for (const r of [0, 0.25, 0.5, 0.999]) {
        const d = backoffDelay(policy, attempt, () => r);
        assert.ok(d >= 0 && d <= step && d <= policy.maxBackoffMs, `attempt ${attempt}, random ${r}: ${d}`);
      }
    }
  });

  test('the delay grows with the random value (jitter spreads retries out)', () => {
    for (const [attempt] of upper) {
      assert.ok(backoffDelay(policy, attempt, () => 0) < backoffDelay(policy, attempt, () => 1), `attempt ${attempt}`);
    }
  });

  test('random 0: equal jitter never waits less than half the exponential delay, as backoffDelay documents', () => {
    for (const [attempt, max] of upper)
      assert.equal(
        backoffDelay(policy, attempt, () => 0),
        Math.round(max / 2),
        `attempt ${attempt}`,
      );
  });

  test('sleep resolves after the delay', async () => {
    const started = Date.now();
    await sleep(30);
    assert.ok(Date.now() - started >= 25);
  });

  test('sleep rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('run cancelled'));
    await assert.rejects(pending, /run cancelled/);
    assert.ok(Date.now() - started < 1_000);
  });

  test('sleep with an already aborted signal rejects at once', async () => {
    await assert.rejects(sleep(60_000, AbortSignal.abort(new Error('already gone'))), /already gone/);
  });
});
