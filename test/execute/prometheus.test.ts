import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NO_REDACTION } from '../../src/execute/output-cap.js';
import type { StepContext } from '../../src/execute/steps/step-context.js';
import { pollUntil, prometheusCheck } from '../../src/execute/steps/verify.js';
import { freePort } from '../support/alertmanager.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { findPrometheusBinary, startPrometheus, type Prometheus } from '../support/prometheus.js';

// verify steps with a Prometheus check, against Debian's real `prometheus` on 127.0.0.1: a
// non-empty result holds, an empty one is "not yet", an API error or no answer is inconclusive.

const SKIP_LINE = 'skipped: prometheus not installed (apt-get install prometheus)';
const binary = findPrometheusBinary();
const inCi = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());
const skip = binary === null && !inCi;
if (skip) process.stdout.write(`${SKIP_LINE}\n`);

const CAP = 64 * 1024;
const TRY_TIMEOUT_MS = 2_000;
const ctx = (): StepContext => ({ signal: new AbortController().signal, timeoutMs: 30_000, outputCapBytes: CAP, redactor: NO_REDACTION });

describe('verify against a real Prometheus', { timeout: 60_000 }, () => {
  let prometheus: Prometheus | undefined;
  /** Serves demo_error_ratio in the text exposition format; Prometheus scrapes it every second. */
  let exporter: TestHttpServer | undefined;
  let errorRatio = 5;

  const verify = (query: string, withinMs: number, everyMs: number) =>
    pollUntil(prometheusCheck(prometheus!.url, query, TRY_TIMEOUT_MS, CAP, NO_REDACTION), { withinMs, everyMs }, ctx());
  const logs = () => `\n--- Prometheus (last 20 lines):\n${prometheus?.output().split('\n').slice(-20).join('\n') ?? ''}`;

  before(async () => {
    if (skip) return;
    if (binary === null) throw new Error('CI is set and prometheus is not installed: apt-get install prometheus');
    exporter = await startHttpServer((req, res) =>
      req.url === '/metrics'
        ? reply(res, 200, `# HELP demo_error_ratio Share of requests that failed.\n# TYPE demo_error_ratio gauge\ndemo_error_ratio ${errorRatio}\n`, {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
          })
        : reply(res, 404, 'not found'),
    );
    prometheus = await startPrometheus({ binary, scrapeTargets: [`127.0.0.1:${exporter.port}`] });
  });

  after(async () => {
    // Each one on its own: a failure to stop one must not leave the other running.
    await Promise.allSettled([prometheus?.stop(), exporter?.close()]);
  });

  test('vector(1) holds on the first try, and the measured value is recorded', { skip }, async () => {
    const r = await verify('vector(1)', 5_000, 200);
    assert.equal(r.ok, true, `${r.error ?? ''}${logs()}`);
    assert.match(r.output, /^\+\d+\.\ds holds: 1 series: \{\} 1$/);
    assert.equal(r.vars.stdout, '1 series: {} 1');
  });

  test('a scalar result holds and records its value', { skip }, async () => {
    const r = await verify('scalar(vector(0.25))', 5_000, 200);
    assert.equal(r.ok, true, `${r.error ?? ''}${logs()}`);
    assert.equal(r.vars.stdout, 'scalar 0.25');
  });

  test('vector(1) > 2 is empty every time: fails with "did not hold"', { skip }, async () => {
    const started = Date.now();
    const r = await verify('vector(1) > 2', 1_000, 200);
    assert.equal(r.ok, false);
    assert.equal(r.error, 'did not hold within 1s (last: empty result)');
    const lines = r.output.split('\n');
    assert.ok(lines.length >= 3, r.output);
    for (const line of lines) assert.match(line, /^\+\d+\.\ds not yet: empty result$/);
    assert.ok(Date.now() - started < 5_000);
  });

  test("an invalid query is inconclusive and fails, naming Prometheus's error", { skip }, async () => {
    const r = await verify('sum(', 600, 200);
    assert.equal(r.ok, false);
    assert.match(
      r.error ?? '',
      /^inconclusive: the last check failed \(Prometheus answered 400: invalid parameter "query": .*parse error: unclosed left parenthesis\) and 0\.6s are up$/,
    );
    for (const line of r.output.split('\n')) assert.match(line, /^\+\d+\.\ds error: Prometheus answered 400: /);
  });

  test('a scraped gauge: 5 makes "> 1" hold; after the exporter serves 0, "< 1" holds within the deadline', { skip }, async () => {
    errorRatio = 5;
    // The first scrape comes within a second or two of start: poll for it with a deadline.
    const high = await verify('demo_error_ratio > 1', 10_000, 250);
    assert.equal(high.ok, true, `${high.error ?? ''}\n${high.output}${logs()}`);
    assert.equal(high.vars.stdout, `1 series: {"__name__":"demo_error_ratio","instance":"127.0.0.1:${exporter!.port}","job":"demo"} 5`);

    errorRatio = 0;
    const low = await verify('demo_error_ratio < 1', 10_000, 250);
    assert.equal(low.ok, true, `${low.error ?? ''}\n${low.output}${logs()}`);
    assert.equal(low.vars.stdout, `1 series: {"__name__":"demo_error_ratio","instance":"127.0.0.1:${exporter!.port}","job":"demo"} 0`);
    // Until the next scrape the old value is still the latest: the lines before the last say so.
    for (const line of low.output.split('\n').slice(0, -1)) assert.match(line, /not yet: empty result$/);
    assert.ok(
      exporter!.requests.some((r) => r.url === '/metrics' && /^Prometheus\//.test(String(r.headers['user-agent']))),
      'Prometheus scraped the exporter',
    );
  });
});

describe('verify with a Prometheus check that cannot be made', { timeout: 30_000 }, () => {
  test('an unreachable Prometheus (nothing listens on the port) is inconclusive and fails', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await pollUntil(prometheusCheck(url, 'vector(1)', TRY_TIMEOUT_MS, CAP, NO_REDACTION), { withinMs: 300, everyMs: 50 }, ctx());
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^inconclusive: the last check failed \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+\) and 0\.3s are up$/);
  });

  describe('a stand-in server answering what Prometheus should not', () => {
    let server: TestHttpServer;
    before(async () => {
      server = await startHttpServer();
    });
    after(async () => {
      await server.close();
    });

    const cases: { name: string; status: number; body: unknown; error: RegExp }[] = [
      { name: 'a proxy error page', status: 502, body: '<html>Bad Gateway</html>', error: /^inconclusive: the last check failed \(Prometheus answered 502\) / },
      {
        name: 'an API error with status 200',
        status: 200,
        body: { status: 'error', errorType: 'timeout', error: 'query timed out' },
        error: /\(Prometheus answered 200: query timed out\)/,
      },
      { name: '"success" without data', status: 200, body: { status: 'success' }, error: /\(Prometheus answered 200 without a result\)/ },
      { name: 'not JSON at all', status: 200, body: 'vector(1) => 1', error: /\(Prometheus answered 200\)/ },
    ];
    for (const c of cases) {
      test(`${c.name}: inconclusive, never success`, async () => {
        server.handle((req, res) => (req.url?.startsWith('/prom/api/v1/query?query=vector(1)') ? reply(res, c.status, c.body) : reply(res, 404, 'wrong path')));
        // A trailing slash on the configured URL is allowed.
        const r = await pollUntil(
          prometheusCheck(`${server.url}/prom/`, 'vector(1)', TRY_TIMEOUT_MS, CAP, NO_REDACTION),
          { withinMs: 200, everyMs: 50 },
          ctx(),
        );
        assert.equal(r.ok, false);
        assert.match(r.error ?? '', c.error);
        assert.match(r.error ?? '', /^inconclusive: /);
      });
    }
  });
});
