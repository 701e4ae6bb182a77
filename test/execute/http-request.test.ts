import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { NO_REDACTION } from '../../src/execute/output-cap.js';
import { runHttpStep, sendHttp, type HttpCall } from '../../src/execute/steps/http-request.js';
import type { StepContext } from '../../src/execute/steps/step-context.js';
import { freePort } from '../support/alertmanager.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { until } from '../support/until.js';

const ctx = (timeoutMs = 5_000, outputCapBytes = 64 * 1024, signal = new AbortController().signal): StepContext => ({
  signal,
  timeoutMs,
  outputCapBytes,
  redactor: NO_REDACTION,
});

/** Resolves true when the response's connection closes, false if it is still open after `ms`. */
function closedWithin(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Node's gc(), without --expose-gc on the command line. */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Settles with `promise`, or with 'still pending' after `ms`: a hang becomes an assertion, not a suite timeout. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'still pending'>((resolve) => (timer = setTimeout(() => resolve('still pending'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('http steps against a real local server', { timeout: 30_000 }, () => {
  let server: TestHttpServer;
  const call = (over: Partial<HttpCall> = {}): HttpCall => ({ method: 'GET', url: `${server.url}/health`, headers: {}, body: null, ...over });

  before(async () => {
    server = await startHttpServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.handle((_req, res) => reply(res, 200, 'ok'));
  });

  test('an expected status succeeds and records status and body', async () => {
    server.handle((_req, res) => reply(res, 202, 'accepted'));
    const r = await runHttpStep(call({ method: 'POST' }), [200, 202], ctx());
    assert.equal(r.ok, true);
    assert.equal(r.error, null);
    assert.equal(r.exitCode, null);
    assert.equal(r.output, 'HTTP 202\naccepted');
    assert.equal(r.vars.stdout, 'accepted');
  });

  test('an unexpected status fails with an error naming the request, the status and what was expected', async () => {
    server.handle((_req, res) => reply(res, 503, 'overloaded'));
    const r = await runHttpStep(call({ method: 'POST' }), [200, 204], ctx());
    assert.equal(r.ok, false);
    assert.equal(r.error, `POST ${server.url}/health answered 503, expected 200 or 204`);
    assert.equal(r.output, 'HTTP 503\noverloaded');
  });

  test('an object body (as rendered from a template) is sent as JSON with content-type set', async () => {
    const body = { text: 'Rolled back shop/checkout (run r-1)', replicas: 3, dryRun: false, labels: { severity: 'critical' } };
    const r = await runHttpStep(call({ method: 'POST', url: `${server.url}/hooks/deploy?x=1`, body }), [200], ctx());
    assert.equal(r.ok, true);
    const seen = server.requests.at(-1);
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.url, '/hooks/deploy?x=1');
    assert.equal(seen?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(seen?.body ?? ''), body);
  });

  test('a content-type given by the playbook wins over the JSON default, whatever its case', async () => {
    await runHttpStep(call({ method: 'POST', headers: { 'Content-Type': 'application/merge-patch+json' }, body: { spec: { replicas: 2 } } }), [200], ctx());
    const seen = server.requests.at(-1);
    assert.equal(seen?.headers['content-type'], 'application/merge-patch+json');
    assert.equal(seen?.body, '{"spec":{"replicas":2}}');
  });

  test('a string body is sent as is, not JSON-encoded again', async () => {
    const text = 'restart checkout please {"not": "re-encoded"}\n';
    await runHttpStep(call({ method: 'PUT', headers: { 'content-type': 'text/plain' }, body: text }), [200], ctx());
    const seen = server.requests.at(-1);
    assert.equal(seen?.method, 'PUT');
    assert.equal(seen?.body, text);
    assert.equal(seen?.headers['content-type'], 'text/plain');
  });

  test('headers arrive as given, with a user-agent', async () => {
    await runHttpStep(call({ headers: { authorization: 'Bearer s3cr3t', 'X-Request-Id': 'run-42' } }), [200], ctx());
    const seen = server.requests.at(-1);
    assert.equal(seen?.headers['authorization'], 'Bearer s3cr3t');
    assert.equal(seen?.headers['x-request-id'], 'run-42');
    assert.equal(seen?.headers['user-agent'], 'remediator');
    assert.equal(seen?.body, '');
  });

  test('a 5 MB response is cut at the cap and marked, and the rest is never downloaded', async () => {
    const size = 5 * 2 ** 20;
    const first = 256 * 1024;
    let closedEarly: Promise<boolean> | undefined;
    // The server sends the first 256 KiB and then holds the rest back until the client hangs up
    // (or 5 s pass): a client that read on would make the server finish, and the test fail.
    server.handle(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': size });
      res.write(Buffer.alloc(first, 'a'));
      closedEarly = closedWithin(res, 5_000);
      if (!(await closedEarly)) res.end(Buffer.alloc(size - first, 'b'));
    });
    const cap = 16 * 1024;
    const res = await sendHttp(call(), ctx(10_000, cap));
    assert.equal(res.status, 200);
    assert.equal(res.truncated, true);
    assert.equal(res.body, `${'a'.repeat(cap)}\n[… response cut at ${cap} bytes …]`);
    assert.equal(res.json, undefined, 'a cut body is not parsed');
    assert.equal(await closedEarly, true, 'the client closed the connection instead of reading 5 MB');
  });

  test('a JSON response is parsed into vars.json for later steps', async () => {
    server.handle((_req, res) => reply(res, 200, { status: 'ok', replicas: 3, pods: [{ name: 'checkout-1' }] }));
    const r = await runHttpStep(call(), [200], ctx());
    assert.equal(r.ok, true);
    assert.deepEqual(r.vars.json, { status: 'ok', replicas: 3, pods: [{ name: 'checkout-1' }] });
    assert.equal(r.vars.stdout, '{"status":"ok","replicas":3,"pods":[{"name":"checkout-1"}]}');
  });

  test('a non-JSON response, or one that says JSON but is not, has no json', async () => {
    server.handle((_req, res) => reply(res, 200, '{"looks":"like json"}'));
    const text = await runHttpStep(call(), [200], ctx());
    assert.equal(text.ok, true);
    assert.equal('json' in text.vars, false);
    assert.equal(text.vars.stdout, '{"looks":"like json"}');

    server.handle((_req, res) => reply(res, 200, '{broken', { 'content-type': 'application/json' }));
    const broken = await runHttpStep(call(), [200], ctx());
    assert.equal(broken.ok, true);
    assert.equal('json' in broken.vars, false);
    assert.equal(broken.vars.stdout, '{broken');
  });

  test('a server that never answers: "no answer within N ms"', async () => {
    server.handle(() => undefined);
    const started = Date.now();
    const r = await within(runHttpStep(call(), [200], ctx(300)), 3_000);
    const took = Date.now() - started;
    assert.notEqual(r, 'still pending', 'the 300 ms timeout never fired');
    assert.equal(r === 'still pending' ? null : r.error, `GET ${server.url}/health: no answer within 300 ms`);
    assert.ok(took >= 250 && took < 3_000, `took ${took} ms`);
  });

  test('a server that sends headers and then stalls the body also times out', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
      res.write('partial');
    });
    const r = await within(runHttpStep(call(), [200], ctx(300)), 3_000);
    assert.notEqual(r, 'still pending', 'the 300 ms timeout never fired while the body was read');
    assert.equal(r === 'still pending' ? null : r.error, `GET ${server.url}/health: no answer within 300 ms`);
  });

  test('the timeout still fires when garbage collection runs during the request', async () => {
    // On Node 20 an AbortSignal.timeout inside AbortSignal.any can be collected before it fires
    // (nodejs/node#57736): under GC pressure a silent server then hung the step for good.
    const gc = exposeGc();
    server.handle(() => undefined);
    const collecting = setInterval(gc, 10);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await within(runHttpStep(call(), [200], ctx(150)), 3_000);
        assert.notEqual(r, 'still pending', `try ${i + 1}: the 150 ms timeout never fired`);
        assert.equal(r === 'still pending' ? null : r.error, `GET ${server.url}/health: no answer within 150 ms`);
      }
    } finally {
      clearInterval(collecting);
    }
  });

  test('cancelling still works when garbage collection runs during the request', async () => {
    const gc = exposeGc();
    server.handle(() => undefined);
    let collections = 0;
    const collecting = setInterval(() => {
      gc();
      collections++;
    }, 10);
    try {
      const controller = new AbortController();
      const pending = runHttpStep(call(), [200], ctx(30_000, 65536, controller.signal));
      await server.waitForRequests(server.requests.length + 1);
      const seen = collections;
      await until('a few collections during the request', () => collections >= seen + 3);
      controller.abort(new Error('run cancelled by test'));
      const r = await within(pending, 3_000);
      assert.notEqual(r, 'still pending', 'the cancel never reached the request');
      assert.equal(r === 'still pending' ? null : r.error, `GET ${server.url}/health: cancelled`);
    } finally {
      clearInterval(collecting);
    }
  });

  test('a refused connection (nothing listens on the port) fails with ECONNREFUSED', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/health`;
    const r = await runHttpStep(call({ url }), [200], ctx());
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', new RegExp(`^GET ${url.replace(/[.?]/g, '\\$&')}: ECONNREFUSED\\b`));
  });

  test('cancelling the run aborts the request: "cancelled"', async () => {
    server.handle(() => undefined);
    const controller = new AbortController();
    const pending = runHttpStep(call(), [200], ctx(30_000, 65536, controller.signal));
    await server.waitForRequests(server.requests.length + 1);
    controller.abort(new Error('run cancelled by test'));
    const r = await within(pending, 3_000);
    assert.notEqual(r, 'still pending', 'the cancel never reached the request');
    assert.equal(r === 'still pending' ? null : r.error, `GET ${server.url}/health: cancelled`);
  });

  test('redirects are not followed: the step sees the 3xx itself', async () => {
    server.handle((req, res) => (req.url === '/health' ? reply(res, 302, '', { location: '/elsewhere' }) : reply(res, 200, 'followed')));
    const before = server.requests.length;
    const accepted = await runHttpStep(call(), [302], ctx());
    assert.equal(accepted.ok, true);
    assert.equal(accepted.output, 'HTTP 302\n');
    const refused = await runHttpStep(call(), [200], ctx());
    assert.equal(refused.ok, false);
    assert.equal(refused.error, `GET ${server.url}/health answered 302, expected 200`);
    assert.deepEqual(
      server.requests.slice(before).map((r) => r.url),
      ['/health', '/health'],
      'nothing asked for /elsewhere',
    );
  });
});
