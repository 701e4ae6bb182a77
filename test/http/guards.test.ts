import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { AuditEvent, Run } from '../../src/domain/run.js';
import { reply, startHttpServer, type TestHttpServer } from '../support/http-server.js';
import { API_TOKEN, removeDir, startTestDaemon, WEBHOOK_TOKEN, type TestDaemon } from '../support/test-daemon.js';

let daemon: TestDaemon | undefined;
let hook: TestHttpServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  if (daemon) {
    await daemon.close();
    removeDir(daemon.dir);
    daemon = undefined;
  }
  await hook?.close();
  hook = undefined;
  for (const d of dirs.splice(0)) removeDir(d);
});

/** A playbooks directory holding one playbook that acts once per deployment, with a cooldown. */
function stormPlaybooks(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'remediator-playbooks-'));
  dirs.push(dir);
  writeFileSync(
    path.join(dir, 'rollback.yaml'),
    `name: rollback
match: { alertname: ErrorBurst }
params:
  namespace: { from: labels.namespace, pattern: '[a-z0-9-]{1,63}' }
  deployment: { from: labels.deployment, pattern: '[a-z0-9-]{1,63}' }
mode: live
guards:
  key: '{{ params.namespace }}/{{ params.deployment }}'
  cooldown: 30m
steps:
  - run: [kubectl, rollout, undo, 'deployment/{{ params.deployment }}', -n, '{{ params.namespace }}']
`,
  );
  return dir;
}

/** A webhook body with one firing ErrorBurst alert instance. */
function firing(fingerprint: string, startsAt: string, labels: Record<string, string> = {}) {
  return {
    version: '4',
    status: 'firing',
    receiver: 'remediator',
    groupKey: `{}:{alertname="ErrorBurst", fp="${fingerprint}"}`,
    alerts: [
      { status: 'firing', labels: { alertname: 'ErrorBurst', namespace: 'shop', deployment: 'checkout', ...labels }, annotations: {}, startsAt, fingerprint },
    ],
  };
}

async function decisions(d: TestDaemon): Promise<AuditEvent[]> {
  return (await d.store.listEvents({ limit: 100_000 })).filter((e) => e.kind === 'decision');
}

const call = (d: TestDaemon, method: string, route: string, body?: unknown, token: string | null = API_TOKEN) =>
  fetch(`${d.url}${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

async function metric(d: TestDaemon, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('a storm through the real pipeline', () => {
  test('100 firings for one key within a minute: one run, 99 suppressions recorded with reasons and counted', async () => {
    daemon = await startTestDaemon({ playbooks: stormPlaybooks() });
    const d = daemon;
    const base = Date.parse('2024-05-01T12:00:00Z');
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => d.post(firing(`f${String(i).padStart(15, '0')}`, new Date(base + i * 500).toISOString()))),
    );
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
    await d.settled();

    const runs = (await d.api<{ runs: Run[] }>('/api/runs?limit=500')).runs;
    assert.equal(runs.length, 1, 'exactly one run');
    const [run] = runs;
    assert.equal(run?.targetKey, 'shop/checkout');

    const all = await decisions(d);
    assert.equal(all.length, 100, 'every firing got a recorded decision');
    const suppressed = all.filter((e) => e.data['action'] === 'suppress');
    assert.equal(suppressed.length, 99);
    assert.equal(new Set(all.map((e) => e.fingerprint)).size, 100, 'one decision per alert instance');
    for (const e of suppressed) {
      assert.ok(['duplicate', 'cooldown'].includes(String(e.data['reason'])), `reason ${String(e.data['reason'])}`);
      assert.match(
        String(e.data['detail']),
        e.data['reason'] === 'duplicate'
          ? new RegExp(`^run ${run?.id} for key "shop/checkout" is still`)
          : /^key "shop\/checkout" ran at .*; cooldown 30m lasts until /,
      );
    }
    const counted = (await (await fetch(`${d.url}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('remediator_runs_suppressed_total{playbook="rollback"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    assert.equal(counted, 99, 'remediator_runs_suppressed_total by reason adds up to 99');
  });
});

describe('pause and resume over the API', () => {
  test('a pause suppresses every would-be run, is recorded with who and why, and is lifted by resume', async () => {
    hook = await startHttpServer((_req, res) => reply(res, 204));
    daemon = await startTestDaemon({ playbooks: stormPlaybooks(), notifyWebhookUrl: `${hook.url}/notify` });
    const d = daemon;
    const before = await json(await call(d, 'GET', '/api/pause'));
    assert.deepEqual([before['paused'], before['pause']], [false, null]);

    const paused = await json<{ paused: boolean; pause: { by: string; reason: string; until: string } }>(
      await call(d, 'POST', '/api/pause', { for: '2h', reason: 'cluster upgrade' }),
    );
    assert.deepEqual([paused.paused, paused.pause.by, paused.pause.reason], [true, 'tester', 'cluster upgrade']);
    assert.equal(await metric(d, /^remediator_paused (\d+)$/m), 1);
    assert.equal((await json<{ paused: boolean }>(await call(d, 'GET', '/api/pause'))).paused, true);

    await d.post(firing('f000000000000001', '2024-05-01T12:00:00Z'));
    await d.settled();
    const [decision] = await decisions(d);
    assert.equal(decision?.data['reason'], 'paused');
    assert.equal(
      decision?.data['detail'],
      `paused by tester at ${(await d.store.globalState({ budgetSince: null })).pause?.pausedAt} until ${paused.pause.until}: cluster upgrade`,
    );
    assert.equal(await metric(d, /^remediator_runs_suppressed_total\{playbook="rollback",reason="paused"\} (\d+)$/m), 1);

    const resumed = await json<{ resumed: boolean; pause: { resumedBy: string } }>(await call(d, 'POST', '/api/resume'));
    assert.deepEqual([resumed.resumed, resumed.pause.resumedBy], [true, 'tester']);
    assert.equal((await json<{ resumed: boolean }>(await call(d, 'POST', '/api/resume'))).resumed, false, 'resuming twice is harmless');
    assert.equal(await metric(d, /^remediator_paused (\d+)$/m), 0);
    await d.post(firing('f000000000000002', '2024-05-01T12:00:01Z'));
    await d.settled();
    assert.equal((await d.api<{ runs: Run[] }>('/api/runs')).runs.length, 1);

    const events = (await d.store.listEvents({ limit: 1000 })).filter((e) => e.kind === 'paused' || e.kind === 'resumed');
    assert.deepEqual(
      events.map((e) => [e.kind, e.data['by'], e.data['via']]),
      [
        ['paused', 'tester', 'api'],
        ['resumed', 'tester', 'api'],
      ],
    );
    await hook.waitForRequests(3);
    assert.deepEqual(
      hook.requests.map((r) => (JSON.parse(r.body) as { kind: string }).kind),
      // The run after the resume is a dry run: its end is told too.
      ['paused', 'resumed', 'run.finished'],
    );
    assert.ok(d.logs.some((l) => String(l['message']).startsWith('notify: Remediation paused by tester until')));
  });

  test('a pause ends by itself at its "until", by the daemon clock', async () => {
    let now = Date.parse('2024-05-01T12:00:00Z');
    daemon = await startTestDaemon({ playbooks: stormPlaybooks(), clock: () => new Date(now) });
    const d = daemon;
    await json(await call(d, 'POST', '/api/pause', { for: '1h', reason: 'deploy freeze' }));
    now += 59 * 60_000;
    assert.equal((await json<{ paused: boolean }>(await call(d, 'GET', '/api/pause'))).paused, true);
    now += 60_000;
    assert.equal((await json<{ paused: boolean }>(await call(d, 'GET', '/api/pause'))).paused, false);
    assert.equal(await metric(d, /^remediator_paused (\d+)$/m), 0);
    await d.post(firing('f000000000000001', '2024-05-01T12:59:00Z'));
    await d.settled();
    assert.equal((await d.api<{ runs: Run[] }>('/api/runs')).runs.length, 1);
  });

  test('bad requests are refused with what to send; the API token is required', async () => {
    daemon = await startTestDaemon({ playbooks: stormPlaybooks() });
    const d = daemon;
    const cases: [unknown, RegExp][] = [
      [{ reason: 'x' }, /"for" must be a duration such as 30m or 2h/],
      [{ for: 'forever', reason: 'x' }, /"for" must be a duration/],
      [{ for: '2h' }, /"reason" must say why/],
      [{ for: '2h', reason: '   ' }, /"reason" must say why/],
      [{ for: '8d', reason: 'x' }, /a pause lasts at most 7d; to stop acting for longer, set execution: dry-run/],
      [{ for: '0s', reason: 'x' }, /a pause needs a duration above zero/],
      [[1, 2], /send a JSON object/],
      ['not json', /./],
    ];
    for (const [body, message] of cases) {
      const res = await call(d, 'POST', '/api/pause', body);
      const answer = await json<{ error: { message: string } }>(res, 400);
      assert.match(answer.error.message, message, JSON.stringify(body));
    }
    for (const [method, route] of [
      ['GET', '/api/pause'],
      ['POST', '/api/pause'],
      ['POST', '/api/resume'],
      ['GET', '/api/circuit'],
      ['POST', '/api/circuit/close'],
    ] as const) {
      for (const token of [null, WEBHOOK_TOKEN])
        assert.equal((await call(d, method, route, method === 'POST' ? { for: '1h', reason: 'x' } : undefined, token)).status, 401, `${method} ${route}`);
    }
    assert.equal((await d.store.globalState({ budgetSince: null })).pause, null, 'nothing was paused');
  });
});

describe('the circuit over the API', () => {
  test('GET shows the circuit and the budget; POST close closes it once, recording who', async () => {
    daemon = await startTestDaemon({ playbooks: stormPlaybooks(), config: { guards: { budget: { count: 5, per: '30m' }, maintenance: [] } } });
    const d = daemon;
    const closed = await json(await call(d, 'GET', '/api/circuit'));
    assert.deepEqual([closed['open'], closed['circuit'], closed['budget']], [false, null, { count: 5, per: '30m', liveRuns: 0 }]);
    assert.equal(await metric(d, /^remediator_circuit_open (\d+)$/m), 0);

    // What the pipeline does when the budget is spent (the pipeline tests open it that way).
    await d.store.openCircuit({ at: new Date().toISOString(), reason: 'budget of 5 live run(s) per 30m spent', by: 'remediator' });
    const open = await json<{ open: boolean; circuit: { reason: string } }>(await call(d, 'GET', '/api/circuit'));
    assert.deepEqual([open.open, open.circuit.reason], [true, 'budget of 5 live run(s) per 30m spent']);
    assert.equal(await metric(d, /^remediator_circuit_open (\d+)$/m), 1);
    await d.post(firing('f000000000000001', '2024-05-01T12:00:00Z'));
    await d.settled();
    const [decision] = await decisions(d);
    assert.deepEqual(
      [decision?.data['action'], decision?.data['reason']],
      ['run', 'execution is dry-run'],
      'a dry run acts on nothing: an open circuit lets it be',
    );

    const answer = await json<{ closed: boolean; circuit: { closedBy: string; closeNote: string } }>(
      await call(d, 'POST', '/api/circuit/close', { note: 'looked at the rollbacks' }),
    );
    assert.deepEqual([answer.closed, answer.circuit.closedBy, answer.circuit.closeNote], [true, 'tester', 'looked at the rollbacks']);
    assert.equal((await json<{ closed: boolean }>(await call(d, 'POST', '/api/circuit/close'))).closed, false, 'closing twice is harmless');
    assert.equal(await metric(d, /^remediator_circuit_open (\d+)$/m), 0);
    const [event] = (await d.store.listEvents({ limit: 1000 })).filter((e) => e.kind === 'circuit.closed');
    assert.deepEqual([event?.data['by'], event?.data['via'], event?.data['note']], ['tester', 'api', 'looked at the rollbacks']);
    assert.match(
      (await json<{ error: { message: string } }>(await call(d, 'POST', '/api/circuit/close', { note: 5 }), 400)).error.message,
      /"note" must be text/,
    );
  });

  test('a maintenance window from the configuration suppresses matching alerts', async () => {
    daemon = await startTestDaemon({
      playbooks: stormPlaybooks(),
      config: {
        guards: {
          budget: { count: 20, per: '1h' },
          maintenance: [{ name: 'always-shop', cron: '* * * * *', duration: '1m', action: 'suppress', matchers: ['namespace="shop"'] }],
        },
      },
    });
    const d = daemon;
    await d.post(firing('f000000000000001', '2024-05-01T12:00:00Z'));
    await d.post(firing('f000000000000002', '2024-05-01T12:00:00Z', { namespace: 'billing' }));
    await d.settled();
    const all = await decisions(d);
    assert.deepEqual(
      all.map((e) => [e.fingerprint, e.data['action'], e.data['reason']]),
      [
        ['f000000000000001', 'suppress', 'maintenance'],
        ['f000000000000002', 'run', 'execution is dry-run'],
      ],
    );
    assert.match(String(all[0]?.data['detail']), /^maintenance window "always-shop" \(\* \* \* \* \*\) from .* until /);
  });
});
