import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Run, RunDetail } from '../../src/domain/run.js';
import { fixtureText } from '../support/fixtures.js';
import { API_TOKEN, removeDir, startTestDaemon, WEBHOOK_TOKEN, type TestDaemon } from '../support/test-daemon.js';

describe('read API, health and metrics', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startTestDaemon();
    for (const f of ['amtool-firing.json', 'prometheus-firing.json', 'prometheus-firing-external-url.json', 'api-v2-firing-no-generator-url.json']) {
      assert.equal((await daemon.post(fixtureText(f))).status, 200);
    }
    await daemon.settled();
  });
  after(async () => {
    await daemon.close();
    removeDir(daemon.dir);
  });

  const get = (path: string, token?: string) => fetch(`${daemon.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  test('GET /api/runs lists newest first and filters by playbook and status', async () => {
    const all = (await daemon.api<{ runs: Run[] }>('/api/runs')).runs;
    assert.deepEqual(
      all.map((r) => r.playbook),
      ['disk-full', 'restart-pod', 'restart-pod', 'high-error-rate'],
    );
    const restart = (await daemon.api<{ runs: Run[] }>('/api/runs?playbook=restart-pod')).runs;
    assert.deepEqual(
      restart.map((r) => r.alertname),
      ['AlwaysFiringFast', 'AlwaysFiring'],
    );
    assert.equal((await daemon.api<{ runs: Run[] }>('/api/runs?status=succeeded')).runs.length, 4);
    assert.equal((await daemon.api<{ runs: Run[] }>('/api/runs?status=failed')).runs.length, 0);
  });

  test('GET /api/runs pages with an opaque cursor', async () => {
    const first = await daemon.api<{ runs: Run[]; next: string }>('/api/runs?limit=3');
    assert.equal(first.runs.length, 3);
    const second = await daemon.api<{ runs: Run[]; next: string | null }>(`/api/runs?limit=3&cursor=${first.next}`);
    assert.deepEqual(
      second.runs.map((r) => r.playbook),
      ['high-error-rate'],
    );
    assert.equal(second.next, null);
  });

  test('bad queries are refused with the reason', async () => {
    const cases: [string, RegExp][] = [
      ['/api/runs?status=done', /status must be one of pending, awaiting_approval/],
      ['/api/runs?limit=0', /limit must be an integer from 1 to 500/],
      ['/api/runs?limit=abc', /limit/],
      ['/api/runs?cursor=zzz', /cursor is not valid/],
      ['/api/runs?playbook=a&playbook=b', /playbook must be given once/],
    ];
    for (const [path, message] of cases) {
      const res = await get(path, API_TOKEN);
      assert.equal(res.status, 400, path);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, message);
    }
  });

  test('GET /api/runs/:id shows one run with steps and events; unknown ids are 404', async () => {
    const [run] = (await daemon.api<{ runs: Run[] }>('/api/runs?playbook=disk-full')).runs;
    const detail = await daemon.api<RunDetail>(`/api/runs/${run?.id}`);
    assert.deepEqual(detail.steps[0]?.rendered, {
      kind: 'http',
      method: 'POST',
      url: 'http://ops.internal.example/cleanup/db',
      headers: {},
      body: { service: 'db', alert: '0a74ac22130028d9' },
      expectStatus: [200, 201, 202, 204],
    });
    const missing = await get('/api/runs/r_00000000000000000000000000', API_TOKEN);
    assert.equal(missing.status, 404);
  });

  test('the API needs an API token (the webhook token is not one); refusals are recorded like refused webhooks: one auth.failed event shape, throttled per source', async () => {
    // Four refused API calls from this address: one record stands for them.
    for (const token of [undefined, WEBHOOK_TOKEN, 'wrong-token-wrong-token']) {
      const res = await get('/api/runs', token);
      assert.equal(res.status, 401);
    }
    assert.equal((await get('/api/playbooks')).status, 401);
    const res = await fetch(`${daemon.url}/-/reload`, { method: 'POST', headers: { authorization: 'Bearer a-guess-that-must-not-be-stored' } });
    assert.equal(res.status, 401);
    const refused = await daemon.store.listEvents({ kind: 'auth.failed', limit: 100 });
    const byEndpoint = new Map(refused.map((e) => [e.data['endpoint'], e.data]));
    assert.deepEqual(byEndpoint.get('api'), {
      endpoint: 'api',
      remoteAddress: '127.0.0.1',
      reason: 'missing or wrong credentials',
      hadAuthorization: false,
      earlierUnrecorded: 0,
    });
    assert.deepEqual(byEndpoint.get('reload'), {
      endpoint: 'reload',
      remoteAddress: '127.0.0.1',
      reason: 'missing or wrong credentials',
      hadAuthorization: true,
      earlierUnrecorded: 0,
    });
    assert.equal(refused.filter((e) => e.data['endpoint'] === 'api').length, 1);
    assert.ok(!JSON.stringify(refused).includes('a-guess-that-must-not-be-stored'));
    const metrics = await (await get('/metrics')).text();
    assert.match(metrics, /remediator_auth_failures_total\{endpoint="api"\} 4/);
    assert.match(metrics, /remediator_auth_failures_total\{endpoint="reload"\} 1/);
  });

  test('GET /api/playbooks lists the active set with content hashes', async () => {
    const body = await daemon.api<{ playbooks: { name: string; hash: string; match: { matchers: string[] } }[] }>('/api/playbooks');
    assert.deepEqual(body.playbooks.map((p) => p.name).sort(), ['disk-full', 'high-error-rate', 'post-incident-note', 'restart-pod']);
    for (const p of body.playbooks) assert.match(p.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(body.playbooks.find((p) => p.name === 'restart-pod')?.match.matchers, ['remediation="restart-pod"']);
  });

  test('health and readiness answer without a token', async () => {
    assert.equal((await get('/-/healthy')).status, 200);
    const ready = await get('/-/ready');
    assert.equal(ready.status, 200);
    assert.match(await ready.text(), /4 playbook/);
  });

  test('/metrics exposes the remediator metrics with the counts so far', async () => {
    const text = await (await get('/metrics')).text();
    assert.match(text, /remediator_alerts_received_total\{status="firing"\} 4/);
    assert.match(text, /remediator_runs_total\{playbook="restart-pod",outcome="succeeded",mode="dry-run"\} 2/);
    assert.match(text, /remediator_webhook_request_duration_seconds_count\{code="200"\} 4/);
    assert.match(text, /remediator_playbooks_loaded 4/);
    assert.match(text, /remediator_process_cpu_seconds_total/);
  });

  test('an unknown route is a JSON 404', async () => {
    const res = await get('/nope');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { code: 'not_found', message: 'no route for GET /nope' } });
  });
});

describe('readiness follows the store', () => {
  test('/-/ready is 503 when the store cannot serve', async () => {
    const daemon = await startTestDaemon();
    await daemon.store.close();
    const res = await fetch(`${daemon.url}/-/ready`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /not ready/);
    await daemon.close();
    removeDir(daemon.dir);
  });
});
